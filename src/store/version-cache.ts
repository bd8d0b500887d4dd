/**
 * DAG versions are immutable (content-addressed per DAG), so the spec a version id names never changes: this
 * decorator keeps the versions the process wrote or read, so that the first tick of a new version's run, the
 * callbacks reader, the agents' task specs and every DAG read (getDag: the row, then the spec from here) do not
 * each read it back. A 10,000-task DAG's spec is ~3 MB: Postgres turns it from jsonb into text in 60–90 ms, on
 * the scheduler's path to the run's first start.
 * A version written here is kept as the store would return it (a JSON copy), not as the caller's object.
 *
 * @example const store = withVersionCache(guardedStore(new PostgresStore({ url })));
 */
import type { DagSpec } from "../domain";
import { overriding } from "./decorate";
import type { Store } from "./store";

/** Versions kept, least recently used dropped first: a few DAGs' worth, each possibly a few MB. */
export const VERSION_CACHE_SIZE = 64;

export function withVersionCache(inner: Store, size = VERSION_CACHE_SIZE): Store {
  const versions = new Map<number, DagSpec>();
  /** Each DAG's version as last upserted here: a sync of unchanged files copies nothing, evicted or not. */
  const upserted = new Map<string, number>();
  const keep = (id: number, spec: DagSpec): void => {
    versions.delete(id);
    versions.set(id, spec);
    if (versions.size > size) versions.delete(versions.keys().next().value!);
  };
  const version = async (versionId: number): Promise<DagSpec | null> => {
    const held = versions.get(versionId);
    if (held) {
      keep(versionId, held);
      return held;
    }
    const spec = await inner.getDagVersion(versionId);
    if (spec) keep(versionId, spec);
    return spec;
  };
  return overriding(inner, {
    async upsertDag(team, input) {
      const record = await inner.upsertDag(team, input);
      // A DAG folder is synced every few seconds: only a DAG's new version is copied (an evicted one is read back).
      const key = `${team}\u0000${record.dag_id}`;
      if (upserted.get(key) !== record.version_id) {
        upserted.set(key, record.version_id);
        if (!versions.has(record.version_id)) keep(record.version_id, JSON.parse(JSON.stringify(input.spec)) as DagSpec);
      }
      return record;
    },
    getDagVersion: version,
    // The DAG's row, and its current version's spec from here: a DAG read (a trigger, an agent's task spec, a
    // dispatch) no longer carries megabytes of spec each time.
    async getDag(team, dagId) {
      const head = await inner.getDagHead(team, dagId);
      if (!head) return null;
      const spec = await version(head.version_id);
      return spec ? { ...head, spec } : inner.getDag(team, dagId);
    },
  });
}
