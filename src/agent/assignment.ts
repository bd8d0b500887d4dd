/**
 * The line an executor writes to a warm agent's stdin to hand it one try: that try's own values (agent token,
 * server URL: the LEOFLOW_* names of TASK_OWN_ENV), as JSON on one line, and when the server registered the try
 * for the agent, Register's answer under REGISTERED: the message's fields as JSON, 64-bit numbers as decimal
 * text, the shape the agent's client reads (client.ts), so the agent needs no protobuf code. The same pipe
 * carries the answers to the reports the agent sends on its control line. The token goes by pipe, never argv,
 * so other users cannot read it from `ps`. Pure.
 *
 * @example formatAssignment({ LEOFLOW_AGENT_TOKEN: "t", LEOFLOW_SERVER: "http://127.0.0.1:8080" })
 */
import { TASK_OWN_ENV } from "../domain/task-env";
import { MAX_LINE_BYTES } from "./line-splitter";

export type Assignment = Record<string, string>;

const REQUIRED = ["LEOFLOW_AGENT_TOKEN", "LEOFLOW_SERVER"] as const;
/** The key of Register's answer: not an environment name, so no try's own value can take it. */
const REGISTERED = "registered";

/**
 * The line; Register's answer is left out when it would make the line longer than the agent reads one
 * (MAX_LINE_BYTES): that agent registers itself.
 */
export function formatAssignment(own: Assignment, registered?: object): string {
  const plain = `${JSON.stringify(own)}\n`;
  if (!registered) return plain;
  const line = `${JSON.stringify({ ...own, [REGISTERED]: registered }, wireValue)}\n`;
  return Buffer.byteLength(line) < MAX_LINE_BYTES ? line : plain;
}

/**
 * The executor's answer to a report a warm agent sent on its control line (control-line.ts `report`): what
 * ReportState answered (its JSON), or the error the RPC would have answered, by its Connect code name.
 */
export type ReportResult = { ok: true; answer: Record<string, unknown> } | { ok: false; code: string; message: string };
/** A ReportResult with the number the agent gave its report (a late answer to an earlier report is told apart). */
export type ReportAnswer = ReportResult & { id: number };

const ANSWER = "report_answer";
const ERROR = "report_error";
const ID = "report_id";

export function formatReportAnswer(a: ReportAnswer): string {
  const body = a.ok ? { [ANSWER]: a.answer } : { [ERROR]: { code: a.code, message: a.message } };
  return `${JSON.stringify({ ...body, [ID]: a.id })}\n`;
}

/** A stdin line that answers a report, or null (an assignment, or anything else). */
export function parseReportAnswer(line: string): ReportAnswer | null {
  if (!line.startsWith(`{"${ANSWER}"`) && !line.startsWith(`{"${ERROR}"`)) return null;
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(line);
  } catch {
    return null;
  }
  const id = raw[ID];
  if (typeof id !== "number" || !Number.isSafeInteger(id)) return null;
  const answer = raw[ANSWER];
  if (answer && typeof answer === "object" && !Array.isArray(answer)) return { ok: true, answer: answer as Record<string, unknown>, id };
  const error = raw[ERROR] as { code?: unknown; message?: unknown } | undefined;
  if (error && typeof error.code === "string" && typeof error.message === "string")
    return { ok: false, code: error.code, message: error.message, id };
  return null;
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
