/**
 * The line an executor writes to a warm agent's stdin to hand it one try: that try's own values (agent token,
 * server URL: the LEOFLOW_* names of TASK_OWN_ENV), as JSON on one line. The token goes by pipe, never argv,
 * so other users cannot read it from `ps`. Pure.
 *
 * @example formatAssignment({ LEOFLOW_AGENT_TOKEN: "t", LEOFLOW_SERVER: "http://127.0.0.1:8080" })
 */
import { TASK_OWN_ENV } from "../domain/task-env";

export type Assignment = Record<string, string>;

const REQUIRED = ["LEOFLOW_AGENT_TOKEN", "LEOFLOW_SERVER"] as const;

export function formatAssignment(own: Assignment): string {
  return `${JSON.stringify(own)}\n`;
}

/** The try's own values, or a message saying what is wrong with the line. */
export function parseAssignment(line: string): { ok: true; own: Assignment } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { ok: false, error: "a try assignment must be one line of JSON" };
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return { ok: false, error: "a try assignment must be a JSON object" };
  const own: Assignment = {};
  for (const [name, value] of Object.entries(raw)) {
    if (!TASK_OWN_ENV.includes(name)) return { ok: false, error: `${name} is not a try's own value (expected ${TASK_OWN_ENV.join(", ")})` };
    if (typeof value !== "string") return { ok: false, error: `${name} must be a string` };
    own[name] = value;
  }
  for (const name of REQUIRED) if (!own[name]) return { ok: false, error: `a try assignment needs ${name}` };
  return { ok: true, own };
}
