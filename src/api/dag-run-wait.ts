/**
 * GET /dags/{dag_id}/dagRuns/{dag_run_id}/wait (Airflow 3.1): streams `application/x-ndjson`, one
 * `{"state": …}` line every `interval` seconds while the run is unfinished, then a last line with the
 * final state and, for each `result` task id, the task's `return_value` XCom under `results`. The last line
 * comes as soon as the run's end is written here or, on a Pro replica that does not lead, seen from the
 * replica that wrote it (deps.runEnds), not at the next interval.
 */
import { Hono } from "hono";
import { z } from "zod";
import { isTerminalDagRunState, type DagRunRecord, lazySchema } from "../domain";
import type { ApiStore } from "../store";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { getDagRunOr404 } from "./lookups";
import { teamOf } from "./team";
import { parseQuery } from "./validate";

export const WaitQuery = lazySchema(() =>
  z.object({
    interval: z.coerce
      .number({ error: "interval must be a number of seconds between state checks, e.g. interval=5" })
      .gt(0, "interval must be greater than 0 seconds"),
    result: z.array(z.string().min(1)).optional(),
  }),
);

/** The last line: the final state, and the requested tasks' return values (null when one returned nothing). */
async function finalLine(store: Pick<ApiStore, "getXCom">, run: DagRunRecord, taskIds: string[] | undefined) {
  const line: { state: string; results?: Record<string, unknown> } = { state: run.state };
  if (taskIds?.length) {
    const values = await Promise.all(
      taskIds.map((task_id) => store.getXCom({ team: run.team, dag_id: run.dag_id, run_id: run.run_id, task_id, key: "return_value" })),
    );
    line.results = Object.fromEntries(taskIds.map((t, i) => [t, values[i]?.value ?? null]));
  }
  return line;
}

export function dagRunWaitRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const { store } = deps;
  const app = new Hono<ApiEnv>();

  app.get("/dags/:dag_id/dagRuns/:dag_run_id/wait", async (c) => {
    const q = parseQuery(c, WaitQuery, ["result"]);
    const first = await getDagRunOr404(store, teamOf(c), c.req.param("dag_id"), c.req.param("dag_run_id"));
    // Silent between lines for `interval` seconds, the stream would be cut by the server's idle timeout (120 s,
    // app.ts) once the interval or the run outlasts it: lifted for this request (Bun's server.timeout; 0 = none).
    (c.env as { timeout?: (req: Request, seconds: number) => void } | undefined)?.timeout?.(c.req.raw, 0);
    const encoder = new TextEncoder();
    const ndjson = (v: unknown) => encoder.encode(`${JSON.stringify(v)}\n`);
    let stopped = false;
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        try {
          let run: DagRunRecord | null = first;
          while (run && !isTerminalDagRunState(run.state) && !stopped) {
            controller.enqueue(ndjson({ state: run.state }));
            await (deps.runEnds ? deps.runEnds.wait(run, q.interval * 1000) : Bun.sleep(q.interval * 1000));
            run = await store.getDagRunById(run.id);
          }
          if (stopped) return;
          // Deleted while waited on: say so in the stream (the 200 and its headers are already sent).
          controller.enqueue(ndjson(run ? await finalLine(store, run, q.result) : { state: null, detail: "the run was deleted" }));
          controller.close();
        } catch (e) {
          controller.error(e);
        }
      },
      cancel() {
        stopped = true; // the client went away: stop polling
      },
    });
    return c.body(body, 200, { "Content-Type": "application/x-ndjson", "Cache-Control": "no-cache" });
  });

  return app;
}
