/**
 * Which event types enabled webhooks want, held in memory by each store so that a state change writes
 * outbox rows only when some webhook could want them: with no webhook the hot path pays a Set lookup.
 * Exact matching (team, DAG filter) happens in the outbox INSERT itself; this only says whether to run it.
 */
import { ANY_WEBHOOK_EVENT, type OperatorChange } from "../domain";

export class WebhookInterest {
  private types = new Set<string>();

  /** From the event_types of every enabled webhook. */
  reset(lists: string[][]): void {
    this.types = new Set(lists.flat());
  }

  /** `type` may be a pseudo-type standing for several (RUN_EVENTS). */
  wants(type: string): boolean {
    if (this.types.size === 0) return false;
    if (type === RUN_EVENTS) return this.types.has(ANY_WEBHOOK_EVENT) || RUN_EVENT_TYPES.some((t) => this.types.has(t));
    return this.types.has(type) || this.types.has(ANY_WEBHOOK_EVENT);
  }

  /** The run event a change to `to` raises (the same names the event stream uses). */
  static runEventType(to: string, terminal: boolean): string {
    return to === "running" ? "dag_run.started" : terminal ? "dag_run.finished" : "dag_run.state_changed";
  }
}

export const TASK_EVENT = "task_instance.state_changed";
const RUN_EVENT_TYPES = ["dag_run.started", "dag_run.finished", "dag_run.state_changed"];
/** Any of the run events: for a batch of run changes whose targets differ. */
export const RUN_EVENTS = "dag_run.*";

export const IMPORT_ERROR_EVENT = "dag.import_error";
/** The event a file's new import errors raise (it names no DAG: the file defines none that loaded). */
export function importErrorEvent(team: string, filename: string, errors: string[], now: Date): Record<string, unknown> {
  return { type: IMPORT_ERROR_EVENT, team, filename, errors, time: now.toISOString() };
}

/** An operator action's task changes as transitions (a clear moves its task instance to `none`), in the order of its `applied` lists. */
export function operatorTaskChanges(change: OperatorChange): { id: number; from: readonly string[]; to: string }[] {
  return [...(change.transitions ?? []), ...(change.clears ?? []).map((c) => ({ id: c.id, from: [c.from], to: c.to ?? "none" }))];
}
