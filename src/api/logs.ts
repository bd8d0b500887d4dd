/**
 * Task logs: GET …/taskInstances/{task_id}/logs/{try_number}. JSON `{content, continuation_token}` by
 * default (a page of 1,000 lines), `text/plain` or `application/x-ndjson` on request. The token is the last line's
 * sequence number; pass it back as `?token=` to get only newer lines, which is how a client follows a running
 * task. `text/plain` is the whole log (from the token, if any) as Airflow 3 answers it, streamed a store page at a
 * time so a 200,000-line log is never one string in memory; its X-Continuation-Token is the last line's, read
 * before the first byte (lines appended meanwhile come with the next read). With `limit` (and no
 * `full_content`) it is one page, as the other forms.
 */
import { Hono } from "hono";
import { z } from "zod";
import { NotFoundError, type LogLineRecord, lazySchema } from "../domain";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { getDagRunOr404, getTaskInstanceOr404 } from "./lookups";
import { teamOf } from "./team";
import { formatLogLine, serializeLogLine } from "./serialize";
import { parsePathParam, parseQuery, queryBool } from "./validate";

export const LOG_PAGE_LINES = 1000;
const MAX_LOG_PAGE_LINES = 10_000;

export const LogsQuery = lazySchema(() =>
  z.object({
    token: z.string().regex(/^\d+$/, "token must be a continuation_token returned by this endpoint").transform(Number).optional(),
    /** Read to the end instead of one page. */
    full_content: queryBool.optional(),
    /** Leoflow addition: lines per page (default 1000, at most 10000). */
    limit: z.coerce.number().int().min(1).max(MAX_LOG_PAGE_LINES).optional(),
    map_index: z.coerce.number().int().optional(),
  }),
);

const TRY = "try_number must be a whole number of 0 or more (a task's first try is 1)";
const TryNumber = lazySchema(() => z.coerce.number({ error: TRY }).int(TRY).min(0, TRY));

export function logRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const { store } = deps;
  const app = new Hono<ApiEnv>();

  app.get("/dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/logs/:try_number", async (c) => {
    const tryNumber = parsePathParam("try_number", c.req.param("try_number"), TryNumber);
    const q = parseQuery(c, LogsQuery);
    const run = await getDagRunOr404(store, teamOf(c), c.req.param("dag_id"), c.req.param("dag_run_id"));
    const ti = await getTaskInstanceOr404(store, run.team, run.dag_id, run.run_id, c.req.param("task_id"), q.map_index ?? -1);
    if (tryNumber < 1 || tryNumber > ti.try_number)
      throw new NotFoundError(
        `Task instance ${ti.task_id} of run ${run.run_id} has no try ${tryNumber}: tries run from 1 to ${ti.try_number}`,
      );

    const accept = c.req.header("accept") ?? "";
    const plain = accept.includes("text/plain");
    if (plain && (q.full_content || q.limit === undefined)) return streamPlain(q.token);

    const lines = await readLines(q.token, q.full_content ? Infinity : (q.limit ?? LOG_PAGE_LINES));
    const last = lines.at(-1)?.seq ?? q.token;
    const continuation_token = last === undefined ? null : String(last);

    if (plain) {
      const body = lines.map((l) => formatLogLine(l) + "\n").join("");
      return c.text(body, 200, continuation_token ? { "X-Continuation-Token": continuation_token } : {});
    }
    if (accept.includes("application/x-ndjson")) {
      const body = lines.map((l) => JSON.stringify(serializeLogLine(l)) + "\n").join("");
      return c.body(body, 200, {
        "Content-Type": "application/x-ndjson",
        ...(continuation_token ? { "X-Continuation-Token": continuation_token } : {}),
      });
    }
    return c.json({ content: lines.map(serializeLogLine), continuation_token });

    /**
     * The whole log after `afterSeq` as plain text, up to the last line stored now: a store page is read only when
     * the client has taken the one before (the stream's pull), so memory holds one page, not the log.
     */
    async function streamPlain(afterSeq: number | undefined): Promise<Response> {
      const lastSeq = await store.lastLogSeq(ti.id, tryNumber);
      const token = lastSeq > (afterSeq ?? -1) ? lastSeq : afterSeq;
      let after = afterSeq; // undefined: from the first line (sequence numbers may start at 0)
      const utf8 = new TextEncoder();
      const body = new ReadableStream<Uint8Array>({
        async pull(out) {
          if (lastSeq < 0 || (after !== undefined && after >= lastSeq)) return out.close();
          try {
            const page = await store.readLogs(ti.id, tryNumber, after, MAX_LOG_PAGE_LINES);
            let text = "";
            for (const l of page) if (l.seq <= lastSeq) text += formatLogLine(l) + "\n";
            if (text) out.enqueue(utf8.encode(text));
            const end = page.at(-1)?.seq;
            if (end === undefined || page.length < MAX_LOG_PAGE_LINES || end >= lastSeq) return out.close();
            after = end;
          } catch (e) {
            // The status is sent: all that is left is to cut the body short, so the client sees it incomplete.
            deps.logger.warn("streaming a task log failed", { ti_id: ti.id, try_number: tryNumber, error: e });
            out.error(e);
          }
        },
      });
      return c.body(body, 200, {
        "Content-Type": "text/plain; charset=UTF-8",
        ...(token === undefined ? {} : { "X-Continuation-Token": String(token) }),
      });
    }

    /** Reads pages from the store until `max` lines or the end (the store caps each page). */
    async function readLines(afterSeq: number | undefined, max: number): Promise<LogLineRecord[]> {
      const out: LogLineRecord[] = [];
      let after = afterSeq; // undefined: from the first line (sequence numbers may start at 0)
      while (out.length < max) {
        const want = Math.min(max - out.length, MAX_LOG_PAGE_LINES);
        const page = await store.readLogs(ti.id, tryNumber, after, want);
        out.push(...page);
        if (page.length < want) break;
        after = page.at(-1)!.seq;
      }
      return out;
    }
  });

  return app;
}
