/**
 * Airflow's DagVersionResponse carries the version's `created_at`; run and task instance records name only
 * the version id. A response looks up each distinct version its runs pinned once (a page of runs usually
 * names one or two), so serializing stays pure.
 */
import type { DagsQueryStore } from "../store";
import type { VersionTimes } from "./serialize";

export async function runVersionTimes(
  store: Pick<DagsQueryStore, "listDagVersions">,
  runs: Iterable<{ version_id: number } | null>,
): Promise<VersionTimes> {
  const ids = [...new Set([...runs].flatMap((r) => (r ? [r.version_id] : [])))];
  const pages = await Promise.all(ids.map((version_id) => store.listDagVersions({ version_id, limit: 1, offset: 0 })));
  return new Map(pages.flatMap((p) => p.items.map((v) => [v.version_id, v.created_at] as const)));
}
