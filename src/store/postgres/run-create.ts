/** Creating many DAG runs at once (the cron scheduler's slot): one statement for every run and task instance. */
import { assertStorableJson, assertStorableText, type DagRunRecord, type NewDagRun } from "../../domain";
import { arrayParam, query, type Db } from "./client";
import { DAG_RUN_COLUMNS, toDagRun, type DagRunRow } from "./rows";

/**
 * The runs from parallel arrays (one element per run), then the task instances of the runs actually inserted
 * from parallel arrays (one element per task, `run_ord` naming its run's position): one round trip for a
 * cron slot of 200 DAGs. A run whose (team, dag_id, run_id) exists already is skipped with its tasks.
 */
const CREATE_RUNS_SQL = `
WITH input AS (
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::timestamptz[], $7::timestamptz[],
    $8::text[], $9::bigint[], $10::timestamptz[], $11::text[], $19::timestamptz[]) WITH ORDINALITY
    AS i(team, dag_id, run_id, run_type, logical_date, data_interval_start, data_interval_end, conf, version_id, queued_at, note, run_after, ord)
), run AS (
  INSERT INTO dag_runs (team, dag_id, run_id, run_type, state, logical_date, data_interval_start, data_interval_end, conf, version_id, queued_at, note, run_after)
  SELECT team, dag_id, run_id, run_type, 'queued', logical_date, data_interval_start, data_interval_end, conf::jsonb, version_id, queued_at, note, run_after
  FROM input ORDER BY ord
  ON CONFLICT (team, dag_id, run_id) DO NOTHING
  RETURNING ${DAG_RUN_COLUMNS}
), tis AS (
  INSERT INTO task_instances (dag_run_id, team, dag_id, run_id, task_id, state, try_number, max_tries, operator, pool, pool_slots, priority_weight, updated_at)
  SELECT run.id, run.team, run.dag_id, run.run_id, t.task_id, 'none', 1, t.max_tries, t.operator, t.pool, t.pool_slots, t.priority_weight, run.queued_at
  FROM run
  JOIN input i ON i.team = run.team AND i.dag_id = run.dag_id AND i.run_id = run.run_id
  JOIN unnest($12::bigint[], $13::text[], $14::int[], $15::text[], $16::text[], $17::int[], $18::int[]) WITH ORDINALITY
    AS t(run_ord, task_id, max_tries, operator, pool, pool_slots, priority_weight, ord) ON t.run_ord = i.ord
  ORDER BY run.id, t.ord
)
SELECT * FROM run`;

/**
 * Inserts each run (state queued) with its task instances (state none) in one statement, so all commit
 * together; returns, in input order, the created record or null where the run id was taken already. A run
 * id repeated within `inputs` is created once (the later copies answer null).
 */
export async function createDagRuns(db: Db, inputs: readonly NewDagRun[]): Promise<(DagRunRecord | null)[]> {
  const key = (r: { team: string; dag_id: string; run_id: string }) => JSON.stringify([r.team, r.dag_id, r.run_id]);
  const seen = new Set<string>();
  const runs = inputs.filter((r) => !seen.has(key(r)) && seen.add(key(r)));
  if (runs.length === 0) return [];
  for (const r of runs) {
    // jsonb refuses \u0000 and lone surrogates: refused before the statement, as createDagRun does.
    assertStorableJson(r.conf ?? {}, "conf");
    assertStorableText(r.note, "note");
  }
  const col = <K extends keyof NewDagRun>(k: K) => arrayParam(runs.map((r) => r[k] ?? null));
  const tasks = runs.flatMap((r, i) => r.tasks.map((t) => ({ ...t, run_ord: i + 1 })));
  const taskCol = <K extends keyof (typeof tasks)[number]>(k: K) => arrayParam(tasks.map((t) => t[k]));
  const rows = await query<DagRunRow>(db, CREATE_RUNS_SQL, [
    col("team"),
    col("dag_id"),
    col("run_id"),
    col("run_type"),
    col("logical_date"),
    col("data_interval_start"),
    col("data_interval_end"),
    runs.map((r) => JSON.stringify(r.conf ?? {})),
    col("version_id"),
    col("queued_at"),
    col("note"),
    taskCol("run_ord"),
    taskCol("task_id"),
    taskCol("max_tries"),
    taskCol("operator"),
    taskCol("pool"),
    taskCol("pool_slots"),
    taskCol("priority_weight"),
    col("run_after"),
  ]);
  const created = new Map(rows.map((row) => [key(row), toDagRun(row)]));
  const firstOf = new Map<string, number>();
  return inputs.map((r, i) => {
    const k = key(r);
    if (!firstOf.has(k)) firstOf.set(k, i);
    return firstOf.get(k) === i ? (created.get(k) ?? null) : null;
  });
}
