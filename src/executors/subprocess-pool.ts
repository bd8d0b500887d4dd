/**
 * Warm agents for the subprocess executor (`--agent-pool N`): N `leoflow agent --warm` processes started
 * ahead, so a try does not wait for a Bun start. A try takes an idle ready agent, or starts a new one when
 * none is; the agent comes back when its try is over and its user group is stopped. Agents
 * beyond N (started for a burst) retire after idling `idleMs`; an agent that exits is replaced, with a
 * growing delay while replacements die before they are ready. Each agent runs one try at a time and builds
 * every try's environment afresh (agent/warm.ts).
 */
import type { Logger } from "../observability";
import { toError } from "../domain";
import type { AgentHooks, AgentProcess } from "./subprocess-agent";
import { agentsToRetire, restartDelayMs } from "./subprocess-pool-rules";

/** Longest a try waits for a reporting agent before it starts its own (a report is a few ms). */
const REPORTING_WAIT_MS = 50;

export interface WarmAgentPoolOptions {
  size: number;
  /** The control-plane URL the agents are started for; tries for another URL start a cold agent. */
  server: string;
  start: (hooks: AgentHooks) => AgentProcess;
  logger: Logger;
  /** How long an agent beyond `size` may idle before it is retired. Default 10 s. */
  idleMs?: number;
}

export class WarmAgentPool {
  private readonly agents = new Set<AgentProcess>();
  /** Idle agents and since when (ms), in the order they became idle. */
  private readonly idle = new Map<AgentProcess, number>();
  private readonly ids = new WeakMap<AgentProcess, number>();
  private nextId = 1;
  /** Agents in a row that exited before they said ready. */
  private failures = 0;
  private refillTimer: ReturnType<typeof setTimeout> | null = null;
  private trimTimer: ReturnType<typeof setTimeout> | null = null;
  private closed = false;
  private readonly idleMs: number;
  /** Tries waiting for an agent that is reporting. */
  private waiters: (() => void)[] = [];

  constructor(private readonly opts: WarmAgentPoolOptions) {
    this.idleMs = opts.idleMs ?? 10_000;
  }

  get server(): string {
    return this.opts.server;
  }

  /** Agents alive now, idle ones, ready ones: for tests and the log. */
  stats(): { agents: number; idle: number; ready: number } {
    return { agents: this.agents.size, idle: this.idle.size, ready: [...this.agents].filter((a) => a.ready).length };
  }

  start(): void {
    this.refill();
  }

  /**
   * An idle ready agent for one try, or a new one. One still starting is left to the next try: should it die
   * before it is ready (a binary that cannot run), no try goes down with it. Throws when no agent can start.
   */
  async take(): Promise<AgentProcess> {
    const idle = this.takeIdle();
    if (idle) return idle;
    if (![...this.agents].some((a) => a.reporting && !a.doomed)) return this.spawn();
    // An agent sending its final state is free within a report's round trip, and the next task of a chain
    // is dispatched right after that report lands: wait for it rather than pay for a start.
    const soon = this.nextRelease(REPORTING_WAIT_MS);
    await soon.released;
    const freed = this.takeIdle();
    if (freed) return freed;
    // Still reporting (a loaded machine, a slow report): start an agent, and take whichever is free first, the
    // reporting one or the new one once ready. The try never waits longer than a start; the other agent idles.
    const fresh = this.spawn();
    const release = this.nextRelease(Number.POSITIVE_INFINITY);
    await Promise.race([fresh.settled, release.released]);
    release.cancel();
    const first = this.takeIdle();
    if (!first) return fresh;
    this.idle.set(fresh, Date.now());
    this.scheduleTrim();
    return first;
  }

  /** An idle ready agent is there now: a try launched at once would not wait for a start. */
  hasIdle(): boolean {
    return this.firstIdle() !== null;
  }

  private takeIdle(): AgentProcess | null {
    const a = this.firstIdle();
    if (a) this.idle.delete(a);
    return a;
  }

  /** The longest-idle agent that is ready and alive and not being retired, or null. */
  private firstIdle(): AgentProcess | null {
    for (const a of this.idle.keys()) if (a.ready && a.alive && !a.doomed) return a;
    return null;
  }

  /** Resolves at the next release, or after `ms` (Infinity: no timer); cancel() drops the wait. */
  private nextRelease(ms: number): { released: Promise<void>; cancel: () => void } {
    let done!: () => void;
    const released = new Promise<void>((resolve) => {
      const timer = Number.isFinite(ms) ? setTimeout(() => done(), ms) : null;
      done = () => {
        if (timer) clearTimeout(timer);
        this.waiters = this.waiters.filter((w) => w !== done);
        resolve();
      };
      this.waiters.push(done);
    });
    return { released, cancel: done };
  }

  /** The try of `agent` is over (its user group stopped): it waits for the next one. */
  release(agent: AgentProcess): void {
    if (!agent.alive || agent.doomed || this.closed) {
      agent.retire();
      return;
    }
    this.idle.set(agent, Date.now());
    for (const w of this.waiters.splice(0)) w();
    this.scheduleTrim();
  }

  /** Stops starting agents and retires the idle ones; busy ones retire when their try is over. */
  close(): void {
    this.closed = true;
    if (this.refillTimer) clearTimeout(this.refillTimer);
    if (this.trimTimer) clearTimeout(this.trimTimer);
    for (const a of this.idle.keys()) a.retire();
    this.idle.clear();
    for (const a of this.agents) a.proc.unref();
  }

  private spawn(): AgentProcess {
    const agent = this.opts.start({
      onReady: () => {
        this.failures = 0;
      },
      onExit: (a) => this.onExit(a),
    });
    this.ids.set(agent, this.nextId++);
    this.agents.add(agent);
    return agent;
  }

  private onExit(agent: AgentProcess): void {
    this.agents.delete(agent);
    this.idle.delete(agent);
    if (this.closed) return;
    if (!agent.ready && !agent.doomed) {
      this.failures++;
      this.opts.logger.warn("a warm agent exited before it was ready; starting another after a delay", {
        pid: agent.proc.pid,
        exit_code: agent.proc.exitCode,
        signal: agent.proc.signalCode ?? undefined,
        delay_ms: restartDelayMs(this.failures),
      });
    }
    this.scheduleRefill();
  }

  private scheduleRefill(): void {
    if (this.refillTimer || this.closed || this.agents.size >= this.opts.size) return;
    this.refillTimer = setTimeout(() => {
      this.refillTimer = null;
      this.refill();
    }, restartDelayMs(this.failures));
    this.refillTimer.unref?.();
  }

  private refill(): void {
    while (!this.closed && this.agents.size < this.opts.size) {
      try {
        this.idle.set(this.spawn(), Date.now());
      } catch (e) {
        this.failures++;
        this.opts.logger.warn("cannot start a warm agent; tries start their own agent meanwhile", {
          error: toError(e),
          retry_ms: restartDelayMs(this.failures),
        });
        this.scheduleRefill();
        return;
      }
    }
  }

  /** Agents not on their way out. */
  private staying(): number {
    let n = 0;
    for (const a of this.agents) if (!a.doomed) n++;
    return n;
  }

  private scheduleTrim(): void {
    if (this.trimTimer || this.staying() <= this.opts.size) return;
    this.trimTimer = setTimeout(() => {
      this.trimTimer = null;
      const idle = [...this.idle].map(([a, idleSince]) => ({ id: this.ids.get(a) ?? 0, idleSince, a }));
      const retire = new Set(agentsToRetire(idle, this.staying(), this.opts.size, Date.now(), this.idleMs));
      for (const { id, a } of idle)
        if (retire.has(id)) {
          this.idle.delete(a);
          a.retire();
        }
      this.scheduleTrim();
    }, this.idleMs);
    this.trimTimer.unref?.();
  }
}
