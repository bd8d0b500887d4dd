/**
 * The callback fields' names and forms the callback runner reads, apart from the callback schema
 * (callback-spec.ts) so that the server's start-up path does not evaluate zod (test/architecture/startup-graph.test.ts).
 */
import type { CallbackSpec } from "./callback-spec";

export const CALLBACK_KINDS = ["on_success_callback", "on_failure_callback", "on_retry_callback", "on_execute_callback"] as const;
export type CallbackKind = (typeof CALLBACK_KINDS)[number] | "deadline";

/** `file.ts:export`: a module beside the DAG file (a path relative to its folder) and the function it exports. */
export const TS_CALLBACK = /^(?<file>[^:]+\.(?:ts|mts|js|mjs)):(?<name>[A-Za-z_$][\w$]*)$/;

/** Always a list: the fields take one callback or several. */
export function callbackList(v: CallbackSpec | CallbackSpec[] | undefined): CallbackSpec[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}
