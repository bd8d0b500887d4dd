/**
 * An agent's writes on SQLite (AgentRpcStore.startTry, finishTry, appendTryLogs, pushTryXCom): the read and the write in
 * one immediate transaction, so nothing changes the row between them. The transition is written by the
 * store's own applyTransitions path (`apply`), which writes its webhook outbox rows too.
 */
import type { Database } from "bun:sqlite";
import { failedTryState, type LogLineRecord, type TaskInstanceRecord, type TaskTransition, type XComKey } from "../../domain";
import type { TryFinish, TryIdentity, TryStart, TryStartWrite, TryWrite } from "../ports/agent-rpc";
import { getTaskInstanceById } from "./task-instances";
import { appendLogs } from "./logs";
import { collapseAll, nextMoves } from "../transition-rounds";
import { setXCom } from "./xcom";
import { getDagHead } from "./dags";
import { getDagRunById } from "./runs";

type Apply = (transitions: TaskTransition[], now: Date) => boolean[];

export function startTry(db: Database, s: TryStart, now: Date, apply: Apply): TryStartWrite | null {
  // The run and its DAG's file, read in the same transaction when the try is running afterwards (its start applied,
  // or a chain's hand-off started it): Register builds the try's spec from them.
  const withRun = (res: TryWrite): TryStartWrite => {
    const run = res.ti.state === "running" ? getDagRunById(db, res.ti.dag_run_id) : null;
    if (!run) return res;
    return { ...res, run, dagFileloc: getDagHead(db, run.team, run.dag_id)?.fileloc ?? null };
  };
  return write(
    db,
    s,
    now,
    apply,
    (ti) => ({
      id: s.id,
      from: ["queued"],
      to: "running",
      try_number: s.try_number,
      // A sensor back from up_for_reschedule keeps its first start (its timeout counts from there).
      patch: { start_date: ti.start_date ?? now, last_heartbeat: now, hostname: s.hostname, pid: s.pid, note: null },
    }),
    withRun,
  );
}

/**
 * `oneChangePerStart`: a chain's next task moves none → queued (→ running) as one change of its row, as on
 * Postgres; not when outbox rows are written (each transition is announced).
 */
export function finishTry(db: Database, f: TryFinish, now: Date, apply: Apply, oneChangePerStart = false): TryWrite | null {
  const { next, lines } = f;
  const after = (res: TryWrite): TryWrite => {
    // The agent's last lines, with the end that applied (a resend or a stale report stores none).
    if (res.applied && lines?.lines.length) appendLogs(db, f.id, f.try_number, lines.firstSeq, lines.lines, "live");
    if (!next) return res;
    // A chain's next task, in the same transaction: queued only when this end applied as success. From none
    // only (as on Postgres): a task a tick scheduled meanwhile is the tick's to queue.
    let moves = nextMoves(next);
    const collapsed = oneChangePerStart ? collapseAll(moves) : null;
    if (collapsed) moves = [collapsed];
    let moved = res.applied && res.ti.state === "success";
    for (const t of moves) moved = moved && apply([t], now)[0] === true;
    return { ...res, nextApplied: moved };
  };
  return write(
    db,
    f,
    now,
    apply,
    (ti) => ({
      id: f.id,
      from: ["running"],
      // A failure with retries left is written up_for_retry (failedTryState), as on Postgres (agent-tries.ts FINISH).
      to: f.to === "failed" ? failedTryState(ti, f.final) : f.to,
      try_number: f.try_number,
      patch: { end_date: now, note: f.note, ...(f.final ? { max_tries: f.try_number - 1 } : {}) },
    }),
    after,
  );
}

function write(
  db: Database,
  t: TryIdentity,
  now: Date,
  apply: Apply,
  transition: (ti: TaskInstanceRecord) => TaskTransition,
  after: (res: TryWrite) => TryWrite = (res) => res,
): TryWrite | null {
  return db
    .transaction((): TryWrite | null => {
      const ti = getTaskInstanceById(db, t.id);
      if (!ti) return null;
      if (ti.dag_id !== t.dag_id || ti.run_id !== t.run_id || ti.task_id !== t.task_id) return after({ applied: false, ti });
      const [applied] = apply([transition(ti)], now);
      return after(applied ? { applied: true, ti: getTaskInstanceById(db, t.id)! } : { applied: false, ti });
    })
    .immediate();
}

/** Whether the try `t` names is live (queued or running, its task): read inside the caller's transaction. */
function isLive(db: Database, t: TryIdentity): boolean {
  const ti = getTaskInstanceById(db, t.id);
  return (
    ti !== null &&
    ti.dag_id === t.dag_id &&
    ti.run_id === t.run_id &&
    ti.task_id === t.task_id &&
    ti.try_number === t.try_number &&
    (ti.state === "queued" || ti.state === "running")
  );
}

/** PushXCom's write: stored only while the try is live, in one immediate transaction with the check. */
export function pushTryXCom(db: Database, t: TryIdentity, key: XComKey, value: unknown, now: Date, maxBytes: number): boolean {
  return db
    .transaction((): boolean => {
      const live = isLive(db, t);
      if (live) setXCom(db, key, value, now, maxBytes);
      return live;
    })
    .immediate();
}

export function appendTryLogs(db: Database, t: TryIdentity, firstSeq: number, lines: Omit<LogLineRecord, "seq">[]): boolean {
  return db
    .transaction((): boolean => {
      const live = isLive(db, t);
      if (live) appendLogs(db, t.id, t.try_number, firstSeq, lines, "live");
      return live;
    })
    .immediate();
}
