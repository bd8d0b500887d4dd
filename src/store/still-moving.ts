/**
 * What "the run is not orphaned" means in SQL, shared by both stores' reapers: a task instance that still
 * moves on its own (scheduled, queued, running, up for retry, a waiting sensor), or one held back only by depends_on_past
 * (state none, wait_reason depends_on_past; it moves when the previous run's task finishes). Without the
 * second case, a run waiting on its past for longer than --orphan-after would be failed as orphaned.
 */
import type { WaitReasonKind } from "../domain";

/** The kind the planner records on a task instance held back by depends_on_past (src/scheduler/depends-on-past.ts). */
const HELD_BY_PAST: WaitReasonKind = "depends_on_past";

/** SQL condition on task_instances alias `a`: true while the instance can still finish by itself. */
export const STILL_MOVING_SQL = `(a.state IN ('scheduled', 'queued', 'running', 'up_for_retry', 'up_for_reschedule', 'deferred') OR (a.state = 'none' AND a.wait_reason = '${HELD_BY_PAST}'))`;
