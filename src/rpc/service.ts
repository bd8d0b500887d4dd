/**
 * The AgentService implementation: what the control plane does for each agent call. Every call is
 * idempotent (conditional transitions, log batches keyed by sequence number, XCom upserts), so an agent may
 * retry any of them across a control-plane restart.
 */
import { Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { create } from "@bufbuild/protobuf";
import {
  type AgentService,
  AppendLogsResponseSchema,
  GetConnectionResponseSchema,
  GetVariableResponseSchema,
  HeartbeatResponseSchema,
  PushXComResponseSchema,
  ReportStateResponseSchema,
  type LogLine,
} from "../gen/leoflow/agent/v1/agent_pb";
import { NotFoundError, TooLargeError, ValidationError, type TaskState, errorMessage } from "../domain";
import { isStoreUnavailable, type AgentRpcStore, type TryFinish, type TryIdentity, type TryLines, type TryNext } from "../store";
import type { Logger } from "../observability";
import type { AgentTokens } from "../auth";
import { authenticate, callerOf, describe, identify, isStale, renewalDue, requireLiveTry, tryOf } from "./caller";
import { rescheduleTry } from "./reschedule";
import { taskSpecReader } from "./task-spec";
import type { NextTask, XComInputsAhead } from "./xcom-inputs";
import { registerTry } from "./register";
import { TryLogBudget } from "./log-budget";

export interface AgentRpcDeps {
  store: AgentRpcStore;
  tokens: AgentTokens;
  logger: Logger;
  heartbeatIntervalSeconds: number;
  /** Largest request body accepted, in bytes (`--rpc-max-body`, default 4 MiB); larger ones are refused unread. */
  maxBodyBytes?: number;
  /** `--task-log-max-bytes`: the most log bytes one try stores through this door (log-budget.ts). */
  maxTryLogBytes?: number;
  /** `--agent-token-ttl`: heartbeats of a running try hand out a fresh renewable token with this lifetime. */
  renewTokenTtlSeconds?: number;
  /** Called after an agent moved a task instance to a terminal state, so the scheduler can plan the run now. */
  onTaskStateChange(dagRunId: number): void;
  /**
   * Asked before a report of success is written: a chain's next task to dispatch in the same write (the
   * leader's scheduler, SchedulerLoop.agentHandOff), or none; `now` is the end's time. Settled after the write;
   * when it answers true the task was launched and the run is not nudged.
   */
  handOff?(t: TryIdentity, now: Date): TryHandOff | undefined;
  now?: () => Date;
}

/** A chain's next task to queue with a try's success, and what follows the write (told whether it applied). */
export interface TryHandOff {
  next: TryNext;
  /** That task as the scheduler has it: its XCom inputs are read beside the write (xcom-inputs.ts). */
  task?: NextTask;
  settle(applied: boolean): Promise<boolean>;
}

const REPORTABLE: ReadonlySet<string> = new Set(["success", "failed", "skipped", "up_for_reschedule"]);

/**
 * `taskSpec`: the spec builder (its cache of DAG versions) this service shares with registerForAgent; `ahead`:
 * where it finds the XCom inputs a hand-off read for the try it answers (none: each spec reads its own).
 */
export function agentServiceImpl(
  deps: AgentRpcDeps,
  taskSpec = taskSpecReader(deps.store),
  ahead?: XComInputsAhead,
): ServiceImpl<typeof AgentService> {
  const { store, tokens, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const caller = (ctx: HandlerContext) => authenticate(ctx, tokens, store, now());
  const registration = { store, logger, heartbeatIntervalSeconds: deps.heartbeatIntervalSeconds, taskSpec };
  const logBudget = new TryLogBudget(deps.maxTryLogBytes);
  /** The lines of an append (AppendLogs, or a report's last lines) that the try's log budget still takes. */
  const withinBudget = (t: { id: { tiId: number; tryNumber: number } }, l: TryLines): TryLines => ({
    firstSeq: l.firstSeq,
    lines: logBudget.admit(t.id.tiId, t.id.tryNumber, l.firstSeq, l.lines, now()),
  });
  // A hand-off is an optimisation: if asking for one fails, the report is written alone and the run is nudged.
  const askHandOff = (t: TryIdentity, at: Date): TryHandOff | undefined => {
    try {
      return deps.handOff?.(t, at);
    } catch (e) {
      logger.warn("choosing a chain's next task failed; the report goes alone", { error: e });
      return undefined;
    }
  };

  return {
    register: guarded(logger, "Register", async (req, ctx) => registerTry(registration, await identify(ctx, tokens, now()), req, now())),

    getTaskSpec: guarded(logger, "GetTaskSpec", async (_req, ctx) => {
      const c = await caller(ctx);
      requireLiveTry(c, "GetTaskSpec");
      return taskSpec(c);
    }),

    appendLogs: guarded(logger, "AppendLogs", async (req, ctx) => {
      // Lines after the try ended (or from a superseded try) are refused: nobody can write into a finished log.
      // The check and the write are one store call; a refusal is read again to say why.
      const token = await identify(ctx, tokens, now());
      const { firstSeq, lines } = withinBudget(token, logLinesOf(req.firstSeq, req.lines, "AppendLogs"));
      if (!lines.length) return create(AppendLogsResponseSchema, {}); // the try's log is full: dropped (log-budget.ts)
      if (!(await store.appendTryLogs(tryOf(token), firstSeq, lines))) {
        const c = await caller(ctx);
        requireLiveTry(c, "AppendLogs");
        // Live after all (its state moved between the two reads): written as any live try's lines.
        await store.appendLogs(c.id.tiId, c.id.tryNumber, firstSeq, lines);
      }
      return create(AppendLogsResponseSchema, {});
    }),

    heartbeat: guarded(logger, "Heartbeat", async (_req, ctx) => {
      const c = await caller(ctx);
      if (await store.heartbeat(c.id.tiId, c.id.tryNumber, now())) {
        const renew = renewalDue(c, now(), deps.renewTokenTtlSeconds);
        const renewedToken = renew ? await tokens.issue(c.id, deps.renewTokenTtlSeconds!, now()) : "";
        return create(HeartbeatResponseSchema, { renewedToken });
      }
      const ti = (await store.getTaskInstanceById(c.id.tiId)) ?? c.ti;
      return create(HeartbeatResponseSchema, {
        shouldStop: true,
        reason: `task instance ${describe(c.id)} is now ${ti.state} on try ${ti.try_number} (this agent runs try ${c.id.tryNumber})${ti.note ? `: ${ti.note}` : ""}`,
      });
    }),

    pushXCom: guarded(logger, "PushXCom", async (req, ctx) => {
      const c = await caller(ctx);
      requireLiveTry(c, "PushXCom");
      if (!req.key) throw new ConnectError('PushXCom needs a key (the return value is key "return_value")', Code.InvalidArgument);
      let value: unknown;
      try {
        value = JSON.parse(req.valueJson);
      } catch (e) {
        throw new ConnectError(`XCom ${req.key} of task ${c.id.taskId} is not valid JSON: ${errorMessage(e)}`, Code.InvalidArgument);
      }
      // In the try's own team: the token names a task instance, and its team is the XCom's.
      const key = {
        team: c.ti.team,
        dag_id: c.id.dagId,
        run_id: c.id.runId,
        task_id: c.id.taskId,
        map_index: c.ti.map_index,
        key: req.key,
      };
      // Stored only while the try is live, checked again in the write: a clear between the check above and the
      // write must not be followed by this value (the clear deleted the task's XComs for its next try).
      if (!(await store.pushTryXCom(tryOf(c), key, value, now()))) {
        requireLiveTry(await caller(ctx), "PushXCom");
        throw new ConnectError(`PushXCom refused: try ${describe(c.id)} moved on while its XCom was being stored`, Code.FailedPrecondition);
      }
      return create(PushXComResponseSchema, {});
    }),

    reportState: guarded(logger, "ReportState", async (req, ctx) => {
      if (!REPORTABLE.has(req.state))
        throw new ConnectError(
          `ReportState state must be success, failed, skipped or up_for_reschedule, got ${JSON.stringify(req.state)}`,
          Code.InvalidArgument,
        );
      const to = req.state as TaskState;
      const lines = req.logLines.length ? logLinesOf(req.logFirstSeq, req.logLines, "ReportState") : undefined;
      if (to === "up_for_reschedule") {
        const c = await caller(ctx);
        if (isStale(c) || c.ti.state !== "running") return create(ReportStateResponseSchema, { state: c.ti.state });
        // The check's last lines go in while its try still runs (an AppendLogs of its own).
        const kept = lines && withinBudget(c, lines);
        if (kept?.lines.length) await store.appendTryLogs(tryOf(c), kept.firstSeq, kept.lines);
        const state = await rescheduleTry(store, c.ti, now());
        deps.onTaskStateChange(c.ti.dag_run_id);
        return create(ReportStateResponseSchema, { state });
      }
      // The end and the read of the task instance are one store call, as Register's start is.
      const token = await identify(ctx, tokens, now());
      const kept = lines && withinBudget(token, lines);
      // The try's last lines are these: its log budget is not needed again.
      logBudget.forget(token.id.tiId, token.id.tryNumber);
      const finish = {
        ...tryOf(token),
        to: to as TryFinish["to"],
        note: to === "failed" ? req.error || `exit code ${req.exitCode}` : req.error || null,
        // A final failure (a sensor's timeout) spends no retry: max_tries drops to the tries made.
        final: to === "failed" && req.final,
        ...(kept?.lines.length ? { lines: kept } : {}),
      };
      // One time for the end and the start of a task it hands on (that start is never before this end).
      const at = now();
      const handOff = to === "success" ? askHandOff(tryOf(token), at) : undefined;
      if (handOff?.task) ahead?.start(handOff.task);
      let finished: Awaited<ReturnType<AgentRpcStore["finishTry"]>>;
      try {
        finished = await store.finishTry(handOff ? { ...finish, next: handOff.next } : finish, at);
      } catch (e) {
        void handOff?.settle(false);
        throw e;
      }
      const handed = handOff?.settle(finished?.applied === true && finished.nextApplied === true) ?? Promise.resolve(false);
      let c = callerOf(token, finished?.ti ?? null);
      // Resend, stale try, or the control plane already decided (marked, reaped): answer, change nothing. Found
      // running on this try yet not ended: another write won the row meanwhile, and what it left decides.
      if (!finished?.applied) {
        if (!isStale(c) && c.ti.state === "running") c = await caller(ctx);
        return create(ReportStateResponseSchema, { state: c.ti.state });
      }
      logger.debug("task instance finished", { ti: describe(c.id), try: c.id.tryNumber, state: to });
      const runId = c.ti.dag_run_id;
      const nudge = () => {
        try {
          deps.onTaskStateChange(runId);
        } catch (e) {
          // The state is stored; the scheduler's next tick picks it up even if this nudge failed.
          logger.warn("onTaskStateChange failed", { error: e });
        }
      };
      // A chain's next task launched by this report keeps the run from moving: no tick needed for it.
      handed.then(
        (ok) => ok || nudge(),
        (e) => (logger.warn("launching a chain's next task failed; planning its run", { error: e }), nudge()),
      );
      return create(ReportStateResponseSchema, { state: to });
    }),

    // Any live try's token may read any variable or connection of its task's team, as any Airflow task can
    // read its install's; another team's are not there for it. "Not found" is an answer (found: false), not
    // an error, so the agent decides whether a missing one matters.
    getVariable: guarded(logger, "GetVariable", async (req, ctx) => {
      const c = await caller(ctx);
      requireLiveTry(c, "GetVariable");
      const v = await store.getVariable(c.ti.team, req.key);
      return create(GetVariableResponseSchema, v ? { found: true, value: v.value, secret: v.is_encrypted === true } : { found: false });
    }),
    getConnection: guarded(logger, "GetConnection", async (req, ctx) => {
      const who = await caller(ctx);
      requireLiveTry(who, "GetConnection");
      const c = await store.getConnection(who.ti.team, req.connId);
      if (!c) return create(GetConnectionResponseSchema, { found: false });
      return create(GetConnectionResponseSchema, {
        found: true,
        connType: c.conn_type,
        host: c.host ?? "",
        login: c.login ?? "",
        password: c.password ?? "",
        schema: c.schema ?? "",
        port: c.port ?? 0,
        extraJson: c.extra ?? "",
      });
    }),
  };
}

/**
 * Log lines as an agent sends them (AppendLogs, or its last batch with ReportState), checked: a first seq that
 * is not a count and a time that is no date are the agent's bug, refused with the field that is wrong.
 */
function logLinesOf(firstSeq: bigint, lines: readonly LogLine[], method: string): TryLines {
  const first = Number(firstSeq);
  if (!Number.isSafeInteger(first) || first < 0)
    throw new ConnectError(`${method}: the first log line's seq must be a whole number ≥ 0, got ${firstSeq}`, Code.InvalidArgument);
  return {
    firstSeq: first,
    lines: lines.map((l, i) => {
      const timestamp = new Date(Number(l.timestampMs));
      if (Number.isNaN(timestamp.getTime()))
        throw new ConnectError(`${method}: log line ${first + i} has no valid time (timestamp_ms ${l.timestampMs})`, Code.InvalidArgument);
      return { timestamp, stream: l.stream, line: l.line };
    }),
  };
}

/** Maps domain errors to Connect codes and logs the unexpected ones. */
function guarded<I, O>(logger: Logger, method: string, fn: (req: I, ctx: HandlerContext) => Promise<O>) {
  return async (req: I, ctx: HandlerContext): Promise<O> => {
    try {
      return await fn(req, ctx);
    } catch (e) {
      throw toConnectError(e, logger, method);
    }
  };
}

export function toConnectError(e: unknown, logger: Logger, method: string): ConnectError {
  if (e instanceof ConnectError) return e;
  if (e instanceof TooLargeError) return new ConnectError(e.message, Code.ResourceExhausted);
  if (e instanceof NotFoundError) return new ConnectError(e.message, Code.NotFound);
  if (e instanceof ValidationError) return new ConnectError(e.message, Code.InvalidArgument);
  // The database out of reach for a moment: the agent retries (client.ts RETRYABLE) and keeps its try's outcome,
  // where `internal` made it give up and the executor record a failure for a task that ran.
  if (isStoreUnavailable(e)) {
    logger.warn(`agent rpc ${method}: the database is unreachable; the agent will retry`, { error: e });
    return new ConnectError(
      `${method}: the control plane cannot reach its database for now (${e instanceof Error ? e.message : String(e)}); retry`,
      Code.Unavailable,
    );
  }
  logger.error(`agent rpc ${method} failed`, { error: e });
  return new ConnectError(`${method} failed on the control plane: ${e instanceof Error ? e.message : String(e)}`, Code.Internal);
}
