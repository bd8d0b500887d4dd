/**
 * `leoflow tasks logs`: prints a try's log, and with --follow keeps printing new lines until the try ends.
 * Following polls the task instance and the logs endpoint with its continuation token; the state is read
 * before the lines, so the read after the try is seen to end still gets the lines it wrote last (the agent
 * sends its log before it reports the end).
 */
import type { ApiClient } from "./http";
import { seg } from "./http";

/** States in which the try a client is following has ended (a retry starts a new try, so up_for_retry ends one). */
const TRY_OVER = new Set(["success", "failed", "upstream_failed", "skipped", "removed", "up_for_retry"]);

export interface TaskInstanceState {
  state: string | null;
  try_number: number;
}

/** States after which the task instance starts no new try by itself. */
const DONE = new Set(["success", "upstream_failed", "skipped", "removed"]);

/** Whether try `tryNumber` can write no more lines. */
export const tryIsOver = (ti: TaskInstanceState, tryNumber: number): boolean =>
  ti.try_number > tryNumber || (ti.try_number === tryNumber && TRY_OVER.has(ti.state ?? "none"));

/** Whether try `tryNumber` will never start (the task instance finished at an earlier try). */
export const tryNeverStarts = (ti: TaskInstanceState, tryNumber: number): boolean =>
  tryNumber > ti.try_number && DONE.has(ti.state ?? "none");

export interface LogsRequest {
  dag: string;
  run: string;
  task: string;
  tryNumber: number | undefined;
  follow: boolean;
  json: boolean;
}

export interface LogsIo {
  out(text: string): void;
  sleep(ms: number): Promise<void>;
  /** Time between polls while following. */
  pollMs: number;
}

export async function printLogs(client: ApiClient, req: LogsRequest, io: LogsIo): Promise<number> {
  const tiPath = `/api/v2/dags/${seg(req.dag)}/dagRuns/${seg(req.run)}/taskInstances/${seg(req.task)}`;
  let ti = (await client.request("GET", tiPath)).json as TaskInstanceState;
  const tryNumber = req.tryNumber ?? ti.try_number;
  // Plain text (or one JSON line per log line when following) is what a terminal and a pipe want; without
  // --follow, --output json is the API's own {content, continuation_token}.
  const accept = !req.json ? "text/plain" : req.follow ? "application/x-ndjson" : "application/json";
  const read = async (token: string | undefined) => {
    const res = await client.request("GET", `${tiPath}/logs/${tryNumber}`, { query: { full_content: true, token }, accept });
    if (res.text) io.out(res.text.endsWith("\n") ? res.text : res.text + "\n");
    return res.headers.get("x-continuation-token") ?? (res.json?.continuation_token as string | null | undefined) ?? token;
  };

  if (!req.follow) {
    await read(undefined);
    return 0;
  }
  let token: string | undefined;
  for (;;) {
    const over = tryIsOver(ti, tryNumber) || tryNeverStarts(ti, tryNumber);
    // A try not started yet has no log to read; one that never will start is read so that the server says why.
    if (tryNumber <= ti.try_number || over) token = await read(token);
    if (over) return 0;
    await io.sleep(io.pollMs);
    ti = (await client.request("GET", tiPath)).json as TaskInstanceState;
  }
}
