/** Many run state changes at once (the scheduler's tick): one transaction instead of one commit per run. */
import type { Database } from "bun:sqlite";
import type { DagRunStateChange } from "../ports/scheduler";
import { setDagRunState } from "./runs";

/** Each change as setDagRunState would make it, all in one transaction; per input, whether it applied. */
export function setDagRunStates(db: Database, changes: readonly DagRunStateChange[], now: Date): boolean[] {
  if (changes.length === 0) return [];
  return db.transaction(() => changes.map((c) => setDagRunState(db, c.id, c.from, c.to, now, c.note))).immediate();
}
