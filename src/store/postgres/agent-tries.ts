/**
 * An agent's writes on Postgres (AgentRpcStore.startTry, finishTry, appendTryLogs): the conditional write and the
 * read of the row in one statement, so an agent's Register or ReportState waits for one round trip, not a read
 * and then a write. `a` is the row as the UPDATE left it; `cur`, the row as the statement found it, is
 * answered only when the UPDATE did not apply. With `outbox`, the transition's webhook deliveries are
 * inserted by the same statement, as applyTransitions does (webhooks.transitionsWithOutbox).
 */
import { storableText, type LogLineRecord } from "../../domain";
import type { TryFinish, TryIdentity, TryStart, TryWrite } from "../ports/agent-rpc";
import { TASK_EVENT } from "../webhook-interest";
import { arrayParam, query, type Db } from "./client";
import { TI_COLUMNS, toTaskInstance, type TaskInstanceRow } from "./rows";
import { taskEventInsertSql } from "./webhooks";

// Every statement starts with the try ($1 id, $2 dag_id, $3 run_id, $4 task_id, $5 try_number) and $6 now; the
// outbox's event type and time follow the statement's own parameters.
const THE_TRY = "id = $1 AND dag_id = $2 AND run_id = $3 AND task_id = $4 AND try_number = $5";

const START = `UPDATE task_instances SET state = 'running', updated_at = $6, start_date = COALESCE(start_date, $6),
    last_heartbeat = $6, hostname = $7::text, pid = $8::int, note = NULL, wait_reason = NULL
  WHERE ${THE_TRY} AND state = 'queued'
  RETURNING ${TI_COLUMNS}`;

const FINISH = `UPDATE task_instances SET state = $7, updated_at = $6, end_date = $6, note = $8::text, wait_reason = NULL,
    max_tries = CASE WHEN $9::boolean THEN try_number - 1 ELSE max_tries END
  WHERE ${THE_TRY} AND state = 'running'
  RETURNING ${TI_COLUMNS}`;

/** The statement around `update`, whose own parameters end at $`last`. */
function writeSql(update: string, last: number, outbox: boolean): string {
  const type = `$${last + 1}`;
  const time = `$${last + 2}`;
  const ins = `ins AS (${taskEventInsertSql("a", "a", type, time, "$6")}),`;
  return `WITH cur AS (SELECT ${TI_COLUMNS} FROM task_instances WHERE id = $1),
  a AS (${update}),
  ${outbox ? ins : ""}
  answer AS (SELECT true AS applied, a.* FROM a UNION ALL SELECT false, cur.* FROM cur WHERE NOT EXISTS (SELECT 1 FROM a))
SELECT * FROM answer`;
}

const SQL = {
  start: [writeSql(START, 8, false), writeSql(START, 8, true)],
  finish: [writeSql(FINISH, 9, false), writeSql(FINISH, 9, true)],
} as const;

async function write(db: Db, sql: readonly [string, string], t: TryIdentity, own: unknown[], now: Date, outbox: boolean) {
  const params = [t.id, t.dag_id, t.run_id, t.task_id, t.try_number, now, ...own];
  if (outbox) params.push(TASK_EVENT, now.toISOString());
  const [row] = await query<TaskInstanceRow & { applied: boolean }>(db, sql[outbox ? 1 : 0], params);
  return row ? { applied: row.applied, ti: toTaskInstance(row) } : null;
}

/** Agents' hostnames and notes may carry NUL: kept, as U+FFFD (json-safety.ts). */
const text = (v: string | null) => (v === null ? null : storableText(v));

export async function startTry(db: Db, s: TryStart, now: Date, outbox: boolean): Promise<TryWrite | null> {
  return write(db, SQL.start, s, [text(s.hostname), s.pid], now, outbox);
}

export async function finishTry(db: Db, f: TryFinish, now: Date, outbox: boolean): Promise<TryWrite | null> {
  return write(db, SQL.finish, f, [f.to, text(f.note), f.final], now, outbox);
}

// $6 first seq, $7–$9 the lines' times, streams and texts.
const APPEND_LOGS = `WITH live AS (SELECT 1 FROM task_instances WHERE ${THE_TRY} AND state IN ('queued', 'running')),
  ins AS (INSERT INTO task_logs (ti_id, try_number, seq, ts, stream, line)
    SELECT $1, $5, $6 + u.ord - 1, u.ts, u.stream, u.line
      FROM unnest($7::timestamptz[], $8::text[], $9::text[]) WITH ORDINALITY AS u(ts, stream, line, ord)
     WHERE EXISTS (SELECT 1 FROM live)
    ON CONFLICT (ti_id, try_number, seq) DO NOTHING)
SELECT EXISTS (SELECT 1 FROM live) AS live`;

export async function appendTryLogs(db: Db, t: TryIdentity, firstSeq: number, lines: Omit<LogLineRecord, "seq">[]): Promise<boolean> {
  const [row] = await query<{ live: boolean }>(db, APPEND_LOGS, [
    ...[t.id, t.dag_id, t.run_id, t.task_id, t.try_number],
    firstSeq,
    arrayParam(lines.map((l) => l.timestamp)),
    lines.map((l) => l.stream),
    // NUL and lone surrogates become U+FFFD (json-safety.ts), as logs.appendLogs keeps them.
    lines.map((l) => storableText(l.line)),
  ]);
  return row?.live === true;
}
