/**
 * The agent's control lines to the executor that started it, on stdout (its logs go to stderr). Only when
 * asked (LEOFLOW_AGENT_CONTROL=stdout): in a container the container itself is the boundary.
 * - `user_pgid`: the user process runs in its own process group, so a SIGKILLed agent would leave it running;
 *   the agent tells its executor the group id, and the executor kills that group when the agent exits.
 * - `ready` (warm agents, `leoflow agent --warm`): started and waiting on stdin for a try.
 * - `reporting` (warm agents): the user process is over and the final state is being sent; the agent will
 *   be free in a moment, so the executor may wait for it rather than start another (the next task of a
 *   chain is dispatched because of this report).
 * - `done` (warm agents): the try is over, with the exit code a cold agent would have exited with (runner.ts);
 *   the agent waits for the next try.
 * - `report` (warm agents): the try's ReportState request (the JSON its RPC client would send), answered on
 *   stdin (assignment.ts formatReportAnswer) under the same `report_id`: the report of a try the executor handed
 *   this agent, without an HTTP exchange. A report that does not fit a line goes over HTTP.
 *
 * @example formatControlLine({ user_pgid: 4242 }) // 'leoflow-control {"user_pgid":4242}\n'
 */

const PREFIX = "leoflow-control ";

export type ControlMessage =
  /** Process group id of the user process (its pid: it is started with setsid). */
  | { user_pgid: number }
  | { ready: true }
  | { reporting: true }
  | { done: number }
  /** `report_id`: this agent's number for the report, which its answer carries back. */
  | { report: Record<string, unknown>; report_id: number };

export function formatControlLine(msg: ControlMessage): string {
  return `${PREFIX}${JSON.stringify(msg)}\n`;
}

/** The message on one stdout line of the agent, or null for anything else. */
export function parseControlLine(line: string): ControlMessage | null {
  if (!line.startsWith(PREFIX)) return null;
  let msg: Record<string, unknown>;
  try {
    msg = JSON.parse(line.slice(PREFIX.length));
  } catch {
    return null;
  }
  if (typeof msg !== "object" || msg === null) return null;
  const { user_pgid, ready, reporting, done, report, report_id } = msg;
  // Never a signal to every process (-1) or to the executor's own group (0).
  if (typeof user_pgid === "number" && Number.isSafeInteger(user_pgid) && user_pgid > 1) return { user_pgid };
  if (ready === true) return { ready: true };
  if (reporting === true) return { reporting: true };
  if (typeof done === "number" && Number.isInteger(done) && done >= 0 && done <= 255) return { done };
  if (report && typeof report === "object" && !Array.isArray(report) && typeof report_id === "number" && Number.isSafeInteger(report_id))
    return { report: report as Record<string, unknown>, report_id };
  return null;
}
