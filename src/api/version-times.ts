/**
 * Airflow's DagVersionResponse carries the version's `created_at` and per-DAG `version_number`; run and task
 * instance records name only the (server-wide) version id. A response looks up each distinct version its runs pinned once (a page of runs usually
 * names one or two), so serializing stays pure.
 */
import type { DagsQueryStore } from "../store";
import type { VersionShown, VersionTimes } from "./serialize";

/**
 * created_at and number (and team) by version id, per store. A version never changes (nor its number: versions
 * go only with their whole DAG) and its id is never reused, and a
 * client polling a run (every 25 ms in the bench) read it every time: on SQLite that walks the whole spec
 * (created_at is stored after it: megabytes for a 10,000-task DAG). Emptied when it grows past MAX_CACHED.
 */
const cached = new WeakMap<object, Map<number, VersionShown & { team: string }>>();
const MAX_CACHED = 10_000;

export async function runVersionTimes(
  store: Pick<DagsQueryStore, "listDagVersions">,
  runs: Iterable<{ team: string; version_id: number } | null>,
): Promise<VersionTimes> {
  let known = cached.get(store);
  if (!known) cached.set(store, (known = new Map()));
  // Version ids are server-wide; each is read (and found in the cache) inside the team of the run that pinned it.
  const teams = new Map([...runs].flatMap((r) => (r ? [[r.version_id, r.team] as const] : [])));
  const times = new Map<number, VersionShown>();
  const missing: [number, string][] = [];
  for (const [version_id, team] of teams) {
    const hit = known.get(version_id);
    if (hit?.team === team) times.set(version_id, { created_at: new Date(hit.created_at), version_number: hit.version_number });
    else missing.push([version_id, team]);
  }
  const pages = await Promise.all(missing.map(([version_id, team]) => store.listDagVersions(team, { version_id, limit: 1, offset: 0 })));
  if (known.size + missing.length > MAX_CACHED) known.clear();
  for (const [i, page] of pages.entries())
    for (const v of page.items) {
      times.set(v.version_id, { created_at: v.created_at, version_number: v.version_number });
      known.set(v.version_id, { team: missing[i]![1], created_at: new Date(v.created_at), version_number: v.version_number });
    }
  return times;
}
