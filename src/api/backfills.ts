/**
 * Backfills (Airflow 3's /api/v2/backfills): create over a date range, list per DAG, get, pause, unpause,
 * cancel, and dry_run. A backfill's runs are created at once in state queued; the scheduler starts
 * max_active_runs of them at a time (oldest first, or newest first with run_backwards).
 */
import { Hono, type Context } from "hono";
import { z } from "zod";
import { ConflictError, NotFoundError, ValidationError, type BackfillRecord, built, lazySchema } from "../domain";
import { backfillDryRun, planBackfill, type BackfillRequest } from "../scheduler";
import type { BackfillsApiStore } from "../store";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { teamOf } from "./team";
import { isoDateTime, pagingQuery, parseBody, parsePathParam, parseQuery } from "./validate";

/** Airflow's BackfillPostBody. */
export const BackfillPostBody = lazySchema(() =>
  z
    .object({
      dag_id: z.string().min(1),
      from_date: built(isoDateTime),
      to_date: built(isoDateTime),
      run_backwards: z.boolean().default(false),
      // Airflow's default is {}; null (older clients) means the same.
      dag_run_conf: z
        .record(z.string(), z.unknown())
        .nullable()
        .default({})
        .transform((v) => v ?? {}),
      reprocess_behavior: z.enum(["none", "failed", "completed"]).default("none"),
      max_active_runs: z.number().int().min(1).default(10),
      task_id_pattern: z.string().nullable().optional(),
      run_on_latest_version: z.boolean().nullable().optional(),
    })
    .strict(),
);

export const ListBackfillsQuery = lazySchema(() => z.object({ ...pagingQuery, dag_id: z.string().min(1) }));
const BackfillId = lazySchema(() => z.coerce.number().int().min(0));

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** Airflow's BackfillResponse. */
export function serializeBackfill(b: BackfillRecord) {
  return {
    id: b.id,
    dag_id: b.dag_id,
    from_date: iso(b.from_date),
    to_date: iso(b.to_date),
    dag_run_conf: b.dag_run_conf ?? {}, // rows stored before conf defaulted to {} hold null
    is_paused: b.is_paused,
    reprocess_behavior: b.reprocess_behavior,
    max_active_runs: b.max_active_runs,
    selected_task_ids: null,
    created_at: iso(b.created_at),
    completed_at: iso(b.completed_at),
    updated_at: iso(b.updated_at),
    dag_display_name: b.dag_id,
  };
}

/** The team's backfill; another team's is not found, with the same words as a missing one. */
async function backfillOr404(store: Pick<BackfillsApiStore, "getBackfill">, team: string, raw: string): Promise<BackfillRecord> {
  const id = parsePathParam("backfill_id", raw, BackfillId);
  const b = await store.getBackfill(team, id);
  if (!b) throw new NotFoundError(`Could not find backfill with id ${id}`);
  return b;
}

function notCompleted(b: BackfillRecord): void {
  if (b.completed_at) throw new ConflictError(`Backfill ${b.id} is already completed (at ${b.completed_at.toISOString()})`);
}

export function backfillRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const { store } = deps;
  const app = new Hono<ApiEnv>();

  /** Parses and checks a create/dry-run body; returns the DAG and the request. */
  async function request(c: Context<ApiEnv>) {
    const body = await parseBody(c, BackfillPostBody);
    if (body.task_id_pattern != null)
      throw new ValidationError("task_id_pattern is not supported by Leoflow yet: backfills run every task of the DAG; omit it");
    const dag = await store.getDag(teamOf(c), body.dag_id);
    if (!dag) throw new NotFoundError(`Could not find dag ${body.dag_id}`);
    if (!dag.is_active)
      throw new ValidationError(
        `DAG ${dag.dag_id} is not active: its file ${dag.fileloc} no longer defines it (see GET /api/v2/importErrors)`,
      );
    const req: BackfillRequest = {
      dag_id: body.dag_id,
      from_date: body.from_date,
      to_date: body.to_date,
      run_backwards: body.run_backwards,
      dag_run_conf: body.dag_run_conf,
      reprocess_behavior: body.reprocess_behavior,
      max_active_runs: body.max_active_runs,
    };
    return { dag, req };
  }

  app.post("/backfills", async (c) => {
    const { dag, req } = await request(c);
    const now = deps.now();
    const { backfill, created, skipped } = await store.createBackfill(planBackfill(dag, req, now));
    deps.logger.info("backfill created", {
      backfill_id: backfill.id,
      dag_id: dag.dag_id,
      runs_created: created.length,
      slots_skipped: skipped.length,
      by: c.get("user")?.username ?? null,
    });
    deps.scheduler.wake();
    return c.json(serializeBackfill(backfill), 200);
  });

  app.post("/backfills/dry_run", async (c) => {
    const { dag, req } = await request(c);
    // The dates the backfill would create, decided as Store.createBackfill decides them (it listed every date once,
    // while the backfill then created fewer).
    const kept = await backfillDryRun(store, planBackfill(dag, req, deps.now()));
    const backfills = kept.map((d) => ({ logical_date: iso(d), partition_key: null, partition_date: null }));
    return c.json({ backfills, total_entries: backfills.length });
  });

  app.get("/backfills", async (c) => {
    const q = parseQuery(c, ListBackfillsQuery);
    const page = await store.listBackfills(teamOf(c), { dag_id: q.dag_id, limit: q.limit, offset: q.offset, order_by: q.order_by });
    return c.json({ backfills: page.items.map(serializeBackfill), total_entries: page.total });
  });

  app.get("/backfills/:backfill_id", async (c) =>
    c.json(serializeBackfill(await backfillOr404(store, teamOf(c), c.req.param("backfill_id")))),
  );

  app.put("/backfills/:backfill_id/pause", async (c) => {
    const b = await backfillOr404(store, teamOf(c), c.req.param("backfill_id"));
    notCompleted(b);
    const paused = (await store.setBackfillPaused(b.team, b.id, true, deps.now()))!;
    deps.scheduler.wake(); // the next tick holds its runs: their waiting tasks stop taking freed slots (scheduler/refill.ts)
    return c.json(serializeBackfill(paused));
  });

  app.put("/backfills/:backfill_id/unpause", async (c) => {
    const b = await backfillOr404(store, teamOf(c), c.req.param("backfill_id"));
    notCompleted(b);
    const updated = (await store.setBackfillPaused(b.team, b.id, false, deps.now()))!;
    deps.scheduler.wake();
    return c.json(serializeBackfill(updated));
  });

  app.put("/backfills/:backfill_id/cancel", async (c) => {
    const b = await backfillOr404(store, teamOf(c), c.req.param("backfill_id"));
    notCompleted(b);
    const cancelled = (await store.cancelBackfill(b.team, b.id, deps.now()))!;
    deps.logger.info("backfill cancelled", { backfill_id: b.id, dag_id: b.dag_id, by: c.get("user")?.username ?? null });
    return c.json(serializeBackfill(cancelled));
  });

  return app;
}
