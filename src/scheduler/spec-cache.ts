/** DAG versions by id, read once: a version is immutable, and every run pins one. */
import type { DagSpec, RunSnapshot } from "../domain";
import type { Store } from "../store";

export class SpecCache {
  private readonly specs = new Map<number, DagSpec>();

  constructor(private readonly store: Pick<Store, "getDagVersion">) {}

  /** The version; throws when the store does not have it. */
  async get(versionId: number): Promise<DagSpec> {
    let spec = this.specs.get(versionId);
    if (!spec) {
      const loaded = await this.store.getDagVersion(versionId);
      if (!loaded) throw new Error(`DAG version ${versionId} is missing from the store`);
      spec = loaded;
      this.specs.set(versionId, spec);
    }
    return spec;
  }

  /** The versions the runs pin, by version id; an Error where one could not be loaded (only its runs fail). */
  async forRuns(snapshots: readonly RunSnapshot[]): Promise<Map<number, DagSpec | Error>> {
    const out = new Map<number, DagSpec | Error>();
    for (const snap of snapshots) {
      const id = snap.run.version_id;
      if (!out.has(id)) out.set(id, await this.get(id).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e)))));
    }
    return out;
  }
}
