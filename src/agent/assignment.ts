/**
 * The line an executor writes to a warm agent's stdin to hand it one try: that try's own values (agent token,
 * server URL: the LEOFLOW_* names of TASK_OWN_ENV), as JSON on one line, and when the server registered the try
 * for the agent, Register's answer under REGISTERED: the message's fields as JSON, 64-bit numbers as decimal
 * text, the shape the agent's client reads (client.ts), so the agent needs no protobuf code. The token goes by
 * pipe, never argv, so other users cannot read it from `ps`. Pure.
 *
 * @example formatAssignment({ LEOFLOW_AGENT_TOKEN: "t", LEOFLOW_SERVER: "http://127.0.0.1:8080" })
 */
import { TASK_OWN_ENV } from "../domain/task-env";

export type Assignment = Record<string, string>;

const REQUIRED = ["LEOFLOW_AGENT_TOKEN", "LEOFLOW_SERVER"] as const;
/** The key of Register's answer: not an environment name, so no try's own value can take it. */
const REGISTERED = "registered";

export function formatAssignment(own: Assignment, registered?: object): string {
  return `${JSON.stringify(registered ? { ...own, [REGISTERED]: registered } : own, wireValue)}\n`;
}

/** A protobuf message's fields as JSON: its type name left out, 64-bit integers as decimal text. */
function wireValue(key: string, value: unknown): unknown {
  if (key === "$typeName") return undefined;
  return typeof value === "bigint" ? value.toString() : value;
}

/** The try's own values (and Register's answer, when the server registered it), or what is wrong with the line. */
export function parseAssignment(
  line: string,
): { ok: true; own: Assignment; registered?: Record<string, unknown> } | { ok: false; error: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch {
    return { ok: false, error: "a try assignment must be one line of JSON" };
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) return { ok: false, error: "a try assignment must be a JSON object" };
  const own: Assignment = {};
  let registered: Record<string, unknown> | undefined;
  for (const [name, value] of Object.entries(raw)) {
    if (name === REGISTERED) {
      if (typeof value !== "object" || value === null || Array.isArray(value))
        return { ok: false, error: `${REGISTERED} must be a JSON object (Register's answer)` };
      registered = value as Record<string, unknown>;
      continue;
    }
    if (!TASK_OWN_ENV.includes(name)) return { ok: false, error: `${name} is not a try's own value (expected ${TASK_OWN_ENV.join(", ")})` };
    if (typeof value !== "string") return { ok: false, error: `${name} must be a string` };
    own[name] = value;
  }
  for (const name of REQUIRED) if (!own[name]) return { ok: false, error: `a try assignment needs ${name}` };
  return registered ? { ok: true, own, registered } : { ok: true, own };
}
