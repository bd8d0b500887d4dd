/**
 * Airflow's DagVersionResponse carries the version's `created_at`; run and task instance records name only
 * the version id. A response looks up each distinct version its runs pinned once (a page of runs usually
 * names one or two), so serializing stays pure.
 */
import type { DagsQueryStore } from "../store";
import type { VersionTimes } from "./serialize";

export async function runVersionTimes(
  store: Pick<DagsQueryStore, "listDagVersions">,
  runs: Iterable<{ team: string; version_id: number } | null>,
): Promise<VersionTimes> {
  // Version ids are server-wide; each is read inside the team of the run that pinned it.
  const teams = new Map([...runs].flatMap((r) => (r ? [[r.version_id, r.team] as const] : [])));
  const pages = await Promise.all([...teams].map(([version_id, team]) => store.listDagVersions(team, { version_id, limit: 1, offset: 0 })));
  return new Map(pages.flatMap((p) => p.items.map((v) => [v.version_id, v.created_at] as const)));
}
