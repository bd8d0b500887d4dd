/**
 * The callback runner: reads the lifecycle event log from a cursor kept in the store, calls the callbacks
 * each change selects (domain/callbacks.ts) and fires deadline alerts, on the scheduler's leader only (Lite:
 * the one server). It never touches the tick: it runs beside it, reading events the store already wrote.
 *
 * Delivery is at most once per callback: the cursor is saved once a page of events has been read and its
 * callbacks queued, so a crash loses the queued ones rather than repeating them. A page that queued none is
 * saved within SAVE_EVERY_MS instead (reading it again after a crash calls nothing): a busy server's events
 * no longer cost a cursor write per 200 of them. Events the server could not append to the log (it retries;
 * EventLog counts the rare ones dropped) call nothing. A deadline alert is claimed in the store before its
 * callbacks run, so it fires once per run across restarts and leaders.
 * Callbacks run at most `concurrency` at a time, each within `timeoutMs`; a failure is logged, counted
 * (leoflow_callbacks_total{result="failed"}) and recorded as a `callback.failed` event.
 *
 * @example
 * const runner = new CallbackRunner({ store, events: log, logger, metrics, active: () => campaign.isLeader });
 * await runner.start();
 */
import {
  deadlineAt,
  hasTaskCallbacks,
  isTerminalDagRunState,
  loadTemplateContext,
  runKey,
  selectCallbacks,
  templateParams,
  TASK_CALLBACK_STATES,
  toError,
  type DagRunRecord,
  type DagSpec,
  type SelectedCallback,
  type TaskInstanceRecord,
  type TemplateContext,
} from "../domain";
import type { AppendedEvent, EventSink, LeoflowEvent } from "../events";
import { buildHttpCall, httpTemplateTexts, InlineHttpExecutor } from "../executors";
import type { Counter, Logger, Metrics } from "../observability";
import type { Store } from "../store";
import { sendMail as sendMailWithNodemailer, slackCall, smtpMail, type MailMessage, type SmtpSettings } from "./notifiers";
import { runTsCallback, tsCallbackTarget, type TsCallbackSettings } from "./ts-callback";

/** The name of the runner's cursor in the store. */
export const CALLBACK_CURSOR = "callbacks";
const PAGE = 200;
/** A cursor ahead of the stored one is saved at least this often when no callback was queued meanwhile. */
export const SAVE_EVERY_MS = 5_000;
/** Callbacks waiting for a slot before the runner stops reading events (it goes on when they drain). */
const MAX_QUEUED = 10_000;
/** Runs (and their specs) remembered between events; past it the cache starts over. */
const RUN_CACHE_LIMIT = 5_000;

/** An event as the log stores it: its id is the row's, beside it. */
type StoredEvent = LeoflowEvent extends infer E ? (E extends LeoflowEvent ? Omit<E, "id"> : never) : never;

export type CallbackRunnerPort = Pick<
  Store,
  | "getCallbackCursor"
  | "saveCallbackCursor"
  | "claimDeadlineAlert"
  | "readEventsAfter"
  | "lastEventId"
  | "getDagRun"
  | "getDagVersion"
  | "getDag"
  | "listTeams"
  | "listDagRuns"
  | "getVariable"
  | "getConnection"
  | "getXCom"
  | "listMappedXComs"
>;

/** Time and timers (the scheduler's Clock has this shape; tests pass a fake one). */
export interface RunnerClock {
  now(): Date;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const systemClock: RunnerClock = {
  now: () => new Date(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, Math.max(0, ms));
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as Timer),
};

export interface CallbackRunnerOptions {
  store: CallbackRunnerPort;
  /** Where `callback.failed` and `dag_run.deadline_missed` events go (the event log). */
  events: EventSink;
  logger: Logger;
  metrics?: Metrics;
  /** True while this process leads the scheduler (always in Lite). */
  active(): boolean;
  clock?: RunnerClock;
  concurrency?: number;
  /** Per callback, everything included (retries of an http callback). Default 30 s. */
  timeoutMs?: number;
  /** How often the log is read for new events. Default 500 ms. */
  pollMs?: number;
  http?: InlineHttpExecutor;
  sendMail?: (settings: SmtpSettings, mail: MailMessage, timeoutMs: number) => Promise<void>;
  /** How `{ ts: … }` callbacks are started; absent: they fail, saying so. */
  ts?: TsCallbackSettings;
}

interface RunInfo {
  run: DagRunRecord;
  spec: DagSpec;
}

interface Job {
  info: RunInfo;
  selected: SelectedCallback;
  /** For the template context: the task instance's try, when a task's callback. */
  tryNumber: number;
  /** Which instance of a mapped task (-1 unmapped, and for a DAG's own callbacks): its map_index and mapped arguments. */
  mapIndex: number;
}

export class CallbackRunner {
  /** The id of the last event handled. */
  cursor = 0;
  /** The cursor as last stored, and when (epoch ms). */
  private saved = { cursor: 0, at: 0 };
  /** Callbacks queued since this runner was made (a page that moved it must be saved at once). */
  private queuedTotal = 0;
  private readonly clock: RunnerClock;
  private readonly http: InlineHttpExecutor;
  private readonly outcomes: Counter | null;
  private readonly runs = new Map<string, Promise<RunInfo | null>>();
  /**
   * The same runs once read (null: gone), and per spec whether any task has a callback: a task's event in a run
   * already read is handled without waiting, and in a DAG without task callbacks it is only passed over: a busy
   * server handles three events a task (30,000 task events of such a DAG: 0.5–2.5 µs an event before, 0.15–0.9 after).
   */
  private readonly known = new Map<string, RunInfo | null>();
  private readonly withTaskCallbacks = new WeakMap<DagSpec, boolean>();
  /** Specs by version id: many runs share one, and reading one parses it. */
  private readonly specs = new Map<number, Promise<DagSpec | null>>();
  private readonly deadlines = new Map<number, { at: number; info: RunInfo }>();
  private deadlineTimer: unknown = null;
  private firing: Promise<void> | null = null;
  private pollTimer: ReturnType<typeof setInterval> | null = null;
  private reading: Promise<void> | null = null;
  private again = false;
  private resumed = false;
  private readonly queue: Job[] = [];
  private running = 0;
  private readonly drained: (() => void)[] = [];
  private stopped = true;

  constructor(private readonly opts: CallbackRunnerOptions) {
    this.clock = opts.clock ?? systemClock;
    this.http = opts.http ?? new InlineHttpExecutor({ userAgent: "leoflow-callbacks" });
    this.outcomes =
      opts.metrics?.counter(
        "leoflow_callbacks_total",
        "Callbacks run, by kind (on_failure_callback, …, deadline) and result (ok, failed).",
        ["kind", "result"],
      ) ?? null;
  }

  async start(): Promise<void> {
    this.stopped = false;
    this.pollTimer = setInterval(() => this.poke(), this.opts.pollMs ?? 500);
    this.pollTimer.unref?.();
    this.poke();
    await this.idle();
  }

  /**
   * Stops reading and arming deadlines; callbacks already running finish (up to their timeout), queued ones
   * are dropped and logged (at most once: the cursor is past them).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    const dropped = this.queue.splice(0);
    if (dropped.length) this.opts.logger.warn("stopping: queued callbacks are not called", { callbacks: dropped.length });
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.deadlineTimer !== null) this.clock.clearTimeout(this.deadlineTimer);
    this.deadlineTimer = null;
    await this.idle();
  }

  /** Leadership moved: a new leader resumes from the stored cursor; a replica that lost it stops acting. */
  leadershipChanged(leader: boolean): void {
    this.resumed = false;
    this.deadlines.clear();
    if (this.deadlineTimer !== null) this.clock.clearTimeout(this.deadlineTimer);
    this.deadlineTimer = null;
    if (leader) this.poke();
  }

  /** There may be new events. Never throws, never waits. */
  poke(): void {
    if (this.stopped || !this.opts.active()) return;
    if (this.reading) this.again = true;
    else this.reading = this.read();
  }

  /** Resolves once nothing is being read and no callback is queued or running (tests, shutdown). */
  async idle(): Promise<void> {
    for (;;) {
      if (this.reading) await this.reading;
      else if (this.firing) await this.firing;
      else if (this.running || this.queue.length) await new Promise<void>((r) => this.drained.push(r));
      else return;
    }
  }

  private async read(): Promise<void> {
    try {
      do {
        this.again = false;
        if (!this.resumed) await this.resume();
        await this.catchUp();
      } while (this.again && !this.stopped);
    } catch (e) {
      this.opts.logger.warn("reading lifecycle events for callbacks failed; retrying at the next poll", { error: toError(e) });
    } finally {
      this.reading = null;
    }
  }

  /** From the stored cursor (a first start begins at the newest event: no replay of old history). */
  private async resume(): Promise<void> {
    const store = this.opts.store;
    let cursor = await store.getCallbackCursor(CALLBACK_CURSOR);
    if (cursor === null) {
      cursor = await store.lastEventId();
      await store.saveCallbackCursor(CALLBACK_CURSOR, cursor, this.clock.now());
    }
    this.cursor = cursor;
    this.saved = { cursor, at: this.clock.now().getTime() };
    await this.loadDeadlines();
    this.resumed = true;
  }

  /**
   * Events this process just appended, with their ids (ServerEvents.onAppended): handled from memory when they
   * are the very next ones after the cursor and nothing is being read, so a busy server does not read back and
   * parse every event it wrote; otherwise (another replica's events in between, a read under way, not resumed
   * yet) the log is read from the cursor, as at every poll.
   */
  offer(appended: readonly AppendedEvent[]): void {
    if (this.stopped || !this.opts.active() || !appended.length) return;
    if (this.reading || !this.resumed || appended[0]!.id !== this.cursor + 1) return this.poke();
    this.reading = this.handleOffered(appended);
  }

  private async handleOffered(appended: readonly AppendedEvent[]): Promise<void> {
    try {
      await this.handlePage(appended);
    } catch (e) {
      this.opts.logger.warn("handling lifecycle events for callbacks failed; the log is read again at the next poll", {
        error: toError(e),
      });
    } finally {
      this.reading = null;
    }
    if (this.again) this.poke();
  }

  private async catchUp(): Promise<void> {
    for (;;) {
      const rows = await this.opts.store.readEventsAfter(this.cursor, PAGE);
      await this.handlePage(rows);
      if (rows.length < PAGE || !this.opts.active() || this.stopped) return;
    }
  }

  /** Handles a page of events in id order, moving the cursor, and saves it (see the top of this file). */
  private async handlePage(rows: readonly AppendedEvent[]): Promise<void> {
    const queuedBefore = this.queuedTotal;
    for (const row of rows) {
      if (!this.opts.active() || this.stopped) break;
      // The event as stored, not a copy with its id: nothing here reads it, and a busy server handles thousands.
      const handling = this.handle(row.event as StoredEvent);
      if (handling) await handling;
      // In memory at once: a failed read later in the page retries after this event, not before it.
      this.cursor = row.id;
      while (this.queue.length >= MAX_QUEUED) await new Promise<void>((r) => this.drained.push(r));
    }
    const now = this.clock.now();
    if (this.cursor > this.saved.cursor && (this.queuedTotal > queuedBefore || now.getTime() - this.saved.at >= SAVE_EVERY_MS)) {
      await this.opts.store.saveCallbackCursor(CALLBACK_CURSOR, this.cursor, now);
      this.saved = { cursor: this.cursor, at: now.getTime() };
    }
  }

  /** Handles one event; a promise only when it has to wait (a run not read yet, a run's own event). */
  private handle(e: StoredEvent): Promise<void> | undefined {
    if (e.type !== "task_instance.state_changed") return this.handleRunEvent(e);
    if (!TASK_CALLBACK_STATES.has(e.state)) return;
    const known = this.known.get(runKey(e.team, e.dag_id, e.run_id));
    if (known !== undefined) return void this.enqueueTaskCallbacks(known, e);
    return this.runInfo(e.team, e.dag_id, e.run_id).then((info) => this.enqueueTaskCallbacks(info, e));
  }

  private enqueueTaskCallbacks(info: RunInfo | null, e: Extract<StoredEvent, { type: "task_instance.state_changed" }>): void {
    if (!info) return;
    let any = this.withTaskCallbacks.get(info.spec);
    if (any === undefined) this.withTaskCallbacks.set(info.spec, (any = hasTaskCallbacks(info.spec)));
    if (any)
      this.enqueue(
        info,
        selectCallbacks(info.spec, { task_id: e.task_id, state: e.state, try_number: e.try_number ?? 1 }),
        e.try_number ?? 0,
        // Events stored before they named the instance have none: read as unmapped.
        e.map_index ?? -1,
      );
  }

  private async handleRunEvent(e: StoredEvent): Promise<void> {
    if (e.type === "dag_run.created") {
      const info = await this.runInfo(e.team, e.dag_id, e.run_id);
      if (info?.spec.deadline) this.armDeadline(info);
      return;
    }
    if (e.type === "dag_run.finished") {
      const info = await this.runInfo(e.team, e.dag_id, e.run_id);
      if (!info) return;
      this.deadlines.delete(info.run.id);
      this.enqueue(info, selectCallbacks(info.spec, { state: e.state }), 0);
    }
  }

  /** The run and the spec it was planned with; null (and nothing called) when the run is gone. */
  private runInfo(team: string, dagId: string, runId: string): Promise<RunInfo | null> {
    const key = runKey(team, dagId, runId);
    let info = this.runs.get(key);
    if (!info) {
      if (this.runs.size >= RUN_CACHE_LIMIT) this.runs.clear(), this.known.clear();
      info = (async () => {
        const run = await this.opts.store.getDagRun(team, dagId, runId);
        const spec = run && (await this.spec(run.version_id));
        return run && spec ? { run, spec } : null;
      })();
      this.runs.set(key, info);
      info.then(
        (read) => this.runs.get(key) === info && this.known.set(key, read),
        () => this.runs.delete(key),
      );
    }
    return info;
  }

  private spec(versionId: number): Promise<DagSpec | null> {
    let spec = this.specs.get(versionId);
    if (!spec) {
      if (this.specs.size >= RUN_CACHE_LIMIT) this.specs.clear();
      spec = this.opts.store.getDagVersion(versionId);
      this.specs.set(versionId, spec);
      spec.catch(() => this.specs.delete(versionId));
    }
    return spec;
  }

  private enqueue(info: RunInfo, selected: SelectedCallback[], tryNumber: number, mapIndex = -1): void {
    this.queuedTotal += selected.length;
    for (const s of selected) this.queue.push({ info, selected: s, tryNumber, mapIndex });
    this.pump();
  }

  private pump(): void {
    while (this.running < (this.opts.concurrency ?? 8) && this.queue.length) {
      const job = this.queue.shift()!;
      this.running++;
      void this.call(job).finally(() => {
        this.running--;
        this.pump();
        if (!this.running || this.queue.length < MAX_QUEUED) for (const r of this.drained.splice(0)) r();
      });
    }
  }

  private async call(job: Job): Promise<void> {
    const { info, selected, tryNumber, mapIndex } = job;
    const name = `${selected.kind}${selected.kind === "deadline" ? "" : `[${selected.index}]`}`;
    // A DAG's own callback names no task (the log said task_id=undefined).
    const where = {
      dag_id: info.run.dag_id,
      run_id: info.run.run_id,
      ...(selected.task_id !== null && { task_id: selected.task_id }),
      ...(mapIndex >= 0 && { map_index: mapIndex }),
      callback: name,
    };
    const timeoutMs = this.opts.timeoutMs ?? 30_000;
    try {
      await this.deliver(selected, info, { tryNumber, mapIndex }, timeoutMs);
      this.outcomes?.inc({ kind: selected.kind, result: "ok" });
      this.opts.logger.info("callback delivered", where);
    } catch (err) {
      const error = toError(err).message;
      this.outcomes?.inc({ kind: selected.kind, result: "failed" });
      this.opts.logger.warn("callback failed", { ...where, error });
      this.opts.events.emit({
        type: "callback.failed",
        team: info.run.team,
        dag_id: info.run.dag_id,
        run_id: info.run.run_id,
        task_id: selected.task_id,
        callback: name,
        error,
        time: this.clock.now().toISOString(),
      });
    }
  }

  private async deliver(
    { callback: cb, kind, task_id: taskId }: SelectedCallback,
    info: RunInfo,
    instance: { tryNumber: number; mapIndex: number },
    timeoutMs: number,
  ) {
    if ("ts" in cb) return this.deliverTs(cb.ts, kind, info, taskId, instance, timeoutMs);
    const signal = AbortSignal.timeout(timeoutMs);
    const team = info.run.team;
    const connectionId = "http" in cb ? cb.http.connection_id : cb.connection_id;
    const conn = connectionId ? await this.opts.store.getConnection(team, connectionId) : null;
    const texts = "http" in cb ? httpTemplateTexts(cb.http) : [cb.message, ...("to" in cb ? [cb.subject, ...[cb.to].flat()] : [])];
    const ctx = await this.context(info, taskId, instance, texts);
    if ("http" in cb) await this.http.run(buildHttpCall(cb.http, ctx, conn).call, signal);
    else if (cb.notifier === "slack") await this.http.run(slackCall(cb, ctx, conn).call, signal);
    else {
      const { settings, mail } = smtpMail(cb, ctx, conn);
      await (this.opts.sendMail ?? sendMailWithNodemailer)(settings, mail, timeoutMs);
    }
  }

  private async deliverTs(
    spec: string,
    kind: string,
    info: RunInfo,
    taskId: string | null,
    { tryNumber, mapIndex }: { tryNumber: number; mapIndex: number },
    timeoutMs: number,
  ) {
    if (!this.opts.ts) throw new Error("ts callbacks are not enabled on this server");
    const { run } = info;
    const dag = await this.opts.store.getDag(run.team, run.dag_id);
    if (!dag) throw new Error(`DAG "${run.dag_id}" is gone; its ts callback "${spec}" has no file to run`);
    const context = {
      kind,
      dag_id: run.dag_id,
      run_id: run.run_id,
      task_id: taskId,
      try_number: tryNumber,
      map_index: mapIndex,
      logical_date: run.logical_date?.toISOString() ?? null,
      conf: run.conf ?? {},
      params: templateParams(info.spec.params ?? {}, run.conf ?? {}),
    };
    await runTsCallback(this.opts.ts, tsCallbackTarget(spec, dag.fileloc), context, timeoutMs);
  }

  private async context(
    info: RunInfo,
    taskId: string | null,
    { tryNumber, mapIndex }: { tryNumber: number; mapIndex: number },
    texts: string[],
  ): Promise<TemplateContext> {
    // A DAG's own callbacks have no task: task_id renders as "" and try_number as 0. A mapped instance's callback
    // renders in that instance's context: its map_index and its mapped arguments ({{ map.NAME }}).
    const ti = { task_id: taskId ?? "", try_number: tryNumber, map_index: mapIndex } as TaskInstanceRecord;
    return (await loadTemplateContext(this.opts.store, ti, info.run, info.spec, texts)).ctx;
  }

  // --- Deadline alerts -------------------------------------------------------------------------------

  /** Active runs of DAGs with a deadline, read when this runner starts leading (their created events are past). */
  private async loadDeadlines(): Promise<void> {
    for (const team of await this.opts.store.listTeams()) {
      const page = await this.opts.store.listDagRuns(team.name, { state: ["queued", "running"], limit: 10_000 });
      for (const run of page.items) {
        const spec = await this.spec(run.version_id);
        if (spec?.deadline) this.armDeadline({ run, spec });
      }
    }
  }

  private armDeadline(info: RunInfo): void {
    const at = deadlineAt(info.spec.deadline!, info.run).getTime();
    this.deadlines.set(info.run.id, { at, info });
    this.rearm();
  }

  private rearm(): void {
    if (this.deadlineTimer !== null) this.clock.clearTimeout(this.deadlineTimer);
    this.deadlineTimer = null;
    if (this.stopped || !this.deadlines.size) return;
    let next = Number.POSITIVE_INFINITY;
    for (const d of this.deadlines.values()) next = Math.min(next, d.at);
    this.deadlineTimer = this.clock.setTimeout(() => {
      this.firing = this.fireDue().finally(() => (this.firing = null));
    }, next - this.clock.now().getTime());
  }

  private async fireDue(): Promise<void> {
    this.deadlineTimer = null;
    const now = this.clock.now();
    const due = [...this.deadlines].filter(([, d]) => d.at <= now.getTime());
    for (const [id] of due) this.deadlines.delete(id);
    for (const [, { info, at }] of due) {
      try {
        if (!this.opts.active()) break;
        const run = await this.opts.store.getDagRun(info.run.team, info.run.dag_id, info.run.run_id);
        if (!run || isTerminalDagRunState(run.state)) continue;
        if (!(await this.opts.store.claimDeadlineAlert(run.id, now))) continue;
        const deadline = new Date(at).toISOString();
        this.opts.logger.warn("a run missed its deadline; calling its deadline callbacks", {
          dag_id: run.dag_id,
          run_id: run.run_id,
          deadline,
        });
        this.opts.events.emit({
          type: "dag_run.deadline_missed",
          team: run.team,
          dag_id: run.dag_id,
          run_id: run.run_id,
          deadline,
          time: now.toISOString(),
        });
        const list = [info.spec.deadline!.callback].flat();
        this.enqueue(
          { run, spec: info.spec },
          list.map((callback, index) => ({ kind: "deadline", task_id: null, callback, index })),
          0,
        );
      } catch (e) {
        this.opts.logger.warn("checking a run's deadline failed; it is checked again when this runner resumes", {
          dag_id: info.run.dag_id,
          run_id: info.run.run_id,
          error: toError(e),
        });
      }
    }
    this.rearm();
  }
}
