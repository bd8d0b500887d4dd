/** What a refused XCom does to an inline try's outcome (InlineTryStore), stated once for both stores and the events they emit. */
import type { TaskTransition } from "../domain";
import type { InlineTryEnd } from "./ports/inline-tries";

/**
 * The transition as written: a failure (up_for_retry while the try has retries left, as the end's `failedAs`
 * says), with the refusal as its note, when the try's result could not be kept.
 */
export function outcomeAfterXCom(end: Pick<InlineTryEnd, "transition" | "failedAs">, refusal: Error | null): TaskTransition {
  const t = end.transition;
  if (!refusal) return t;
  return { ...t, to: end.failedAs ?? "failed", patch: { ...t.patch, note: refusal.message } };
}
