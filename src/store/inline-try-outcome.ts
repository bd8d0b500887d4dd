/** What a refused XCom does to an inline try's outcome (InlineTryStore), stated once for both stores and the events they emit. */
import type { TaskTransition } from "../domain";

/** The transition as written: failed, with the refusal as its note, when the try's result could not be kept. */
export function outcomeAfterXCom(t: TaskTransition, refusal: Error | null): TaskTransition {
  if (!refusal) return t;
  return { ...t, to: "failed", patch: { ...t.patch, note: refusal.message } };
}
