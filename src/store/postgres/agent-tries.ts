/**
 * An agent's writes on Postgres (AgentRpcStore.startTry, finishTry, appendTryLogs): the conditional write and the
 * read of the row in one statement, so an agent's Register or ReportState waits for one round trip, not a read
 * and then a write. `a` is the row as the UPDATE left it; `cur`, the row as the statement found it, is
 * answered only when the UPDATE did not apply. With `outbox`, the transition's webhook deliveries are
 * inserted by the same statement, as applyTransitions does (webhooks.transitionsWithOutbox).
 */
import { storableText, type LogLineRecord, type TaskTransition, type XComKey } from "../../domain";
import { STAMP_CHANGE } from "./change-stamp";
import { encodeXCom, XCOM_REPLACE, xcomKeyValues } from "../sqlite/xcom";
import type { TryFinish, TryIdentity, TryStart, TryStartWrite, TryWrite } from "../ports/agent-rpc";
import { TASK_EVENT } from "../webhook-interest";
import { notIndexed, query, type Db, type Pool } from "./client";
import { logLinesInsertSql, logLinesParams } from "./logs";
import { DAG_RUN_COLUMNS, runFromJsonValue, TI_COLUMNS, toTaskInstance, XCOM_COLUMNS, type TaskInstanceRow } from "./rows";
import { formOf, type ApplyForm } from "./apply-sql";
import { applyTransitionsOn } from "./task-instances";
import { collapseAll, nextMoves } from "../transition-rounds";
import { taskEventInsertSql, transitionsWithOutbox } from "./webhooks";

// Every statement starts with the try ($1 id, $2 dag_id, $3 run_id, $4 task_id, $5 try_number) and $6 now; the
// outbox's event type and time follow the statement's own parameters.
const THE_TRY = `id = $1 AND ${notIndexed("dag_id = $2 AND run_id = $3 AND task_id = $4 AND try_number = $5")}`;
/** The try ($1–$5) while it is live (queued or running): a row, or none. */
const LIVE_TRY = `SELECT 1 FROM task_instances WHERE ${THE_TRY} AND ${notIndexed("state IN ('queued', 'running')")}`;

const START = `UPDATE task_instances SET state = 'running', updated_at = $6, ${STAMP_CHANGE}, start_date = COALESCE(start_date, $6),
    last_heartbeat = $6, hostname = $7::text, pid = $8::int, note = NULL, wait_reason = NULL
  WHERE ${THE_TRY} AND ${notIndexed("state = 'queued'")}
  RETURNING ${TI_COLUMNS}`;

// $7 state, $8 note, $9 final, $10 the last log lines (JSON; FINISH_LINES stores them when the end applied). A
// failure with retries left is written up_for_retry (domain failedTryState).
const FINISH = `UPDATE task_instances
  SET state = CASE WHEN $7 = 'failed' AND NOT $9::boolean AND try_number <= max_tries THEN 'up_for_retry' ELSE $7 END, updated_at = $6, ${STAMP_CHANGE}, end_date = $6, note = $8::text, wait_reason = NULL,
    max_tries = CASE WHEN $9::boolean THEN try_number - 1 ELSE max_tries END
  WHERE ${THE_TRY} AND ${notIndexed("state = 'running'")}
  RETURNING ${TI_COLUMNS}`;

/** What a statement around an update writes and answers besides the task instance (writeSql). */
interface WriteParts {
  /** Outbox rows for the webhooks that want task events. */
  outbox?: boolean;
  /**
   * A chain's next task (one transition, in this form: its parameters after the update's, then its gate) moves
   * too, only if the update ended the try in success; `next_applied` says whether it did.
   */
  next?: ApplyForm;
  /** A CTE written before the others (FINISH_LINES). */
  lines?: string;
  /** The run and its DAG's file come back with an applied write (RUN_OF_APPLIED). */
  run?: boolean;
}

/** The statement around `update`, whose own parameters end at $`last`. */
function writeSql(update: string, last: number, { outbox = false, next, lines = "", run = false }: WriteParts = {}): string {
  const type = `$${last + 1}`;
  const time = `$${last + 2}`;
  const ins = `ins AS (${taskEventInsertSql("a", "a", type, time, "$6")}),`;
  const s = next ? `s AS (${next.sql("u.ord", last, { condition: "u.gate IN (SELECT id FROM a WHERE state = 'success')" })}),` : "";
  return `WITH cur AS (SELECT ${TI_COLUMNS} FROM task_instances WHERE id = $1),
  a AS (${update}),
  ${lines}${outbox ? ins : ""}${s}
  answer AS (SELECT true AS applied, a.* FROM a UNION ALL SELECT false, cur.* FROM cur WHERE NOT EXISTS (SELECT 1 FROM a))
SELECT *${next ? ", EXISTS (SELECT 1 FROM s) AS next_applied" : ""}${run ? `, ${RUN_OF_APPLIED}` : ""} FROM answer`;
}

/**
 * The task instance's run as JSON and its DAG's file, when it is running after the statement (its start applied,
 * or a chain's hand-off started it): Register builds the try's spec from them (no reads of its own; the DAG's row
 * is not read whole, its spec can be megabytes).
 */
const RUN_OF_APPLIED = `CASE WHEN answer.state = 'running' THEN (SELECT row_to_json(r)::text FROM (
    SELECT ${DAG_RUN_COLUMNS}, (SELECT d.fileloc FROM dags d WHERE d.team = dag_runs.team AND d.dag_id = dag_runs.dag_id) AS dag_fileloc
      FROM dag_runs WHERE id = answer.dag_run_id) r) END AS run_json`;

/** The agent's last log lines ($10, logLinesParams), stored only when the end applied (`a` has its row). */
const FINISH_LINES = `lg AS (${logLinesInsertSql(() => "$10", "EXISTS (SELECT 1 FROM a)")}),
  `;

const SQL = {
  start: [writeSql(START, 8, { run: true }), writeSql(START, 8, { outbox: true, run: true })],
  finish: [writeSql(FINISH, 10, { lines: FINISH_LINES }), writeSql(FINISH, 10, { outbox: true, lines: FINISH_LINES })],
} as const;

/** The end with a chain's next task, by the next's form (a handful: forms are made once per shape). */
const finishWithNextSql = new Map<ApplyForm, string>();
const finishWithNext = (form: ApplyForm): string => {
  let sql = finishWithNextSql.get(form);
  if (!sql) finishWithNextSql.set(form, (sql = writeSql(FINISH, 10, { next: form, lines: FINISH_LINES })));
  return sql;
};

/** FINISH_LINES' parameter: the try's lines as logLinesParams writes any batch. */
const linesJson = (f: TryFinish): string =>
  logLinesParams(f.lines ? [{ ti_id: f.id, try_number: f.try_number, first_seq: f.lines.firstSeq, lines: f.lines.lines }] : [])[0];

async function write(db: Db, sql: readonly [string, string], t: TryIdentity, own: unknown[], now: Date, outbox: boolean) {
  const params = [t.id, t.dag_id, t.run_id, t.task_id, t.try_number, now, ...own];
  if (outbox) params.push(TASK_EVENT, now.toISOString());
  const [row] = await query<TaskInstanceRow & { applied: boolean; run_json?: string | null }>(db, sql[outbox ? 1 : 0], params);
  if (!row) return null;
  const res: TryStartWrite = { applied: row.applied, ti: toTaskInstance(row) };
  if (row.run_json) {
    const run = JSON.parse(row.run_json) as { dag_fileloc: string | null };
    res.run = runFromJsonValue(run);
    res.dagFileloc = run.dag_fileloc;
  }
  return res;
}

/** Agents' hostnames and notes may carry NUL: kept, as U+FFFD (json-safety.ts). */
const text = (v: string | null) => (v === null ? null : storableText(v));

export async function startTry(db: Db, s: TryStart, now: Date, outbox: boolean): Promise<TryStartWrite | null> {
  return write(db, SQL.start, s, [text(s.hostname), s.pid], now, outbox);
}

export async function finishTry(db: Pool, f: TryFinish, now: Date, outbox: boolean): Promise<TryWrite | null> {
  const own = [f.to, text(f.note), f.final, linesJson(f)];
  const next = f.next;
  if (!next) return write(db, SQL.finish, f, own, now, outbox);
  const moves = nextMoves(next);
  const collapsed = collapseAll(moves);
  if (!collapsed) throw new Error("a chain's next task must move none → scheduled → queued (→ running) on one try");
  if (!outbox) {
    // One statement: the next task's none → queued (→ running) is gated on this end's row having ended in success.
    const form = formOf([collapsed]);
    const params = [f.id, f.dag_id, f.run_id, f.task_id, f.try_number, now, ...own, ...form.params([collapsed], now, [f.id])];
    const [row] = await query<TaskInstanceRow & { applied: boolean; next_applied: boolean }>(db, finishWithNext(form), params);
    return row ? { applied: row.applied, ti: toTaskInstance(row), nextApplied: row.next_applied } : null;
  }
  // Each transition writes its own outbox row: the end's statement, then the next task's, in one transaction.
  return (await db.begin(async (tx) => {
    const res = await write(tx, SQL.finish, f, own, now, true);
    if (!res) return null;
    const move = async (t: TaskTransition) => (await applyTransitionsOn(tx, [t], now, transitionsWithOutbox(now)))[0] === true;
    // From none only, as the one statement: a task a tick scheduled meanwhile is the tick's to queue.
    let moved = res.applied && res.ti.state === "success";
    for (const t of moves) moved = moved && (await move(t));
    return { ...res, nextApplied: moved };
  })) as TryWrite | null;
}

/**
 * PushXCom's write, with the liveness check in the same statement. FOR SHARE: a clear (an UPDATE of the row)
 * committing meanwhile either waits for this statement's commit and then deletes the value with the task's
 * other XComs, or committed first, and then the re-checked row is no longer live and nothing is written.
 */
const PUSH_XCOM = `WITH live AS (${LIVE_TRY} FOR SHARE),
  ins AS (INSERT INTO xcom (${XCOM_COLUMNS}) SELECT $6, $7, $8, $9, $10, $11, $12::text::jsonb, $13 FROM live ${XCOM_REPLACE})
SELECT EXISTS (SELECT 1 FROM live) AS live`;

export async function pushTryXCom(db: Db, t: TryIdentity, key: XComKey, value: unknown, now: Date, maxBytes: number): Promise<boolean> {
  const json = encodeXCom(key, value, maxBytes);
  const [row] = await query<{ live: boolean }>(db, PUSH_XCOM, [
    ...[t.id, t.dag_id, t.run_id, t.task_id, t.try_number],
    ...xcomKeyValues(key),
    json,
    now,
  ]);
  return row?.live === true;
}

// $6 the batch as logLinesParams writes any batch (cut into rows of at most 500 lines, log-chunks.ts).
const APPEND_LOGS = `WITH live AS (${LIVE_TRY}),
  ins AS (${logLinesInsertSql(() => "$6", "EXISTS (SELECT 1 FROM live)")})
SELECT EXISTS (SELECT 1 FROM live) AS live`;

export async function appendTryLogs(db: Db, t: TryIdentity, firstSeq: number, lines: Omit<LogLineRecord, "seq">[]): Promise<boolean> {
  const [row] = await query<{ live: boolean }>(db, APPEND_LOGS, [
    ...[t.id, t.dag_id, t.run_id, t.task_id, t.try_number],
    logLinesParams([{ ti_id: t.id, try_number: t.try_number, first_seq: firstSeq, lines }])[0],
  ]);
  return row?.live === true;
}
