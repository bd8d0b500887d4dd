/**
 * BufferedDispatcher: fronts a TaskDispatcher with a bounded queue and a worker pool, so a slow executor
 * (a container engine, a Kubernetes API) never holds up the scheduler tick. A full queue refuses at once
 * with AtCapacityError (the loop leaves the task instance scheduled for the next tick); a launch that fails
 * later, on a worker, goes to the failure sink, which fails the task instance with the reason so it is never
 * stranded in queued. bufferSize 0 is a passthrough (Lite): the inner dispatcher runs inline.
 *
 * @example
 * const buffered = new BufferedDispatcher({ inner: dispatcher, bufferSize: 1024, workers: 16, onFailure, logger });
 * await buffered.dispatch(ti, run, spec); // enqueued; throws AtCapacityError when the queue is full
 * await buffered.close();                 // drains what was accepted
 */
import { LeoflowError, type DagSpec, toError, type DagRunRecord, type TaskInstanceRecord } from "../domain";
import type { Logger } from "../observability";
import type { TaskDispatcher } from "./dispatcher";

/** The queue is full (or closed): leave the task instance scheduled; the next tick tries again. */
export class AtCapacityError extends LeoflowError {
  override readonly name = "AtCapacityError";
  constructor(message = "dispatch buffer at capacity; will retry next tick") {
    super(message);
  }
}

/** Told when a launch accepted into the buffer failed on a worker (it must fail the task instance). */
export type DispatchFailureSink = (ti: TaskInstanceRecord, error: Error) => Promise<void>;

export interface BufferedDispatcherOptions {
  inner: TaskDispatcher;
  /** Queued launches waiting for a worker; 0 = passthrough. */
  bufferSize: number;
  /** Launches running at once (at least 1 when buffered). */
  workers: number;
  onFailure: DispatchFailureSink;
  logger: Logger;
  /** Called once when a slot frees after a refusal, so the scheduler can retry what it left scheduled. */
  onSpaceAvailable?: () => void;
}

/** Upper bounds (seconds) of the dispatch-latency histogram buckets, Prometheus style. */
export const DISPATCH_LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** A plain snapshot the metrics endpoint renders. */
export interface DispatchMetrics {
  mode: "passthrough" | "buffered";
  buffer_size: number;
  workers: number;
  queue_depth: number;
  in_flight: number;
  dispatched_total: number;
  at_capacity_total: number;
  inner_errors_total: number;
  /** Time of the inner dispatch call (resolve + token + executor launch), seconds. */
  latency_seconds: { count: number; sum: number; max: number; buckets: Record<string, number> };
}

type Job = { ti: TaskInstanceRecord; run: DagRunRecord; spec: DagSpec };

export class BufferedDispatcher implements TaskDispatcher {
  private readonly queue: Job[] = [];
  private head = 0;
  private inFlight = 0;
  private closed = false;
  private refusedSinceSpace = false;
  private drained: (() => void) | null = null;
  private closing: Promise<void> | null = null;
  private readonly workers: number;
  private readonly counts = { dispatched: 0, atCapacity: 0, innerErrors: 0 };
  private readonly latency = { count: 0, sum: 0, max: 0, buckets: DISPATCH_LATENCY_BUCKETS.map(() => 0) };

  constructor(private readonly opts: BufferedDispatcherOptions) {
    if (!Number.isInteger(opts.bufferSize) || opts.bufferSize < 0)
      throw new Error(`dispatch buffer size must be a whole number ≥ 0 (0 = passthrough), got ${opts.bufferSize}`);
    this.workers = Math.max(1, Math.floor(opts.workers));
  }

  /** Buffered: resolves once enqueued. Passthrough: resolves when the inner dispatcher has launched it. */
  async dispatch(ti: TaskInstanceRecord, run: DagRunRecord, spec: DagSpec): Promise<void> {
    if (this.opts.bufferSize === 0) return this.launch({ ti, run, spec }, true);
    if (this.closed) throw new AtCapacityError("dispatcher is closing (shutdown); another replica or the next start will dispatch it");
    if (this.queue.length - this.head >= this.opts.bufferSize) {
      this.counts.atCapacity++;
      this.refusedSinceSpace = true;
      throw new AtCapacityError();
    }
    this.queue.push({ ti, run, spec });
    this.pump();
  }

  /** Stops accepting launches and resolves when everything accepted has been handed to the executor. */
  close(): Promise<void> {
    this.closed = true;
    return (this.closing ??=
      this.depth() === 0 && this.inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.drained = resolve)));
  }

  metrics(): DispatchMetrics {
    const buckets: Record<string, number> = {};
    DISPATCH_LATENCY_BUCKETS.forEach((le, i) => {
      buckets[String(le)] = this.latency.buckets[i]!;
    });
    return {
      mode: this.opts.bufferSize === 0 ? "passthrough" : "buffered",
      buffer_size: this.opts.bufferSize,
      workers: this.opts.bufferSize === 0 ? 0 : this.workers,
      queue_depth: this.depth(),
      in_flight: this.inFlight,
      dispatched_total: this.counts.dispatched,
      at_capacity_total: this.counts.atCapacity,
      inner_errors_total: this.counts.innerErrors,
      latency_seconds: { count: this.latency.count, sum: this.latency.sum, max: this.latency.max, buckets },
    };
  }

  private depth(): number {
    return this.queue.length - this.head;
  }

  private pump(): void {
    while (this.inFlight < this.workers && this.depth() > 0) {
      const job = this.queue[this.head]!;
      this.queue[this.head++] = undefined as unknown as Job;
      if (this.head > 1024 && this.head * 2 > this.queue.length) this.queue.splice(0, this.head), (this.head = 0);
      this.inFlight++;
      void this.launch(job, false).finally(() => {
        this.inFlight--;
        if (this.refusedSinceSpace && this.depth() < this.opts.bufferSize) {
          this.refusedSinceSpace = false;
          this.opts.onSpaceAvailable?.();
        }
        this.pump();
        if (this.closed && this.depth() === 0 && this.inFlight === 0) this.drained?.();
      });
    }
  }

  /** Calls the inner dispatcher and tallies it. Inline (passthrough) errors go to the caller; worker errors to the sink. */
  private async launch(job: Job, inline: boolean): Promise<void> {
    const started = performance.now();
    try {
      await this.opts.inner.dispatch(job.ti, job.run, job.spec);
      this.counts.dispatched++;
    } catch (e) {
      this.counts.innerErrors++;
      if (inline) throw e;
      await this.fail(job, toError(e));
    } finally {
      this.observe((performance.now() - started) / 1000);
    }
  }

  private async fail(job: Job, error: Error): Promise<void> {
    try {
      await this.opts.onFailure(job.ti, error);
    } catch (e) {
      this.opts.logger.error("recording an asynchronous dispatch failure failed; the task instance stays queued until reaped", {
        dag_id: job.ti.dag_id,
        run_id: job.ti.run_id,
        task_id: job.ti.task_id,
        error: toError(e),
      });
    }
  }

  private observe(seconds: number): void {
    this.latency.count++;
    this.latency.sum += seconds;
    if (seconds > this.latency.max) this.latency.max = seconds;
    DISPATCH_LATENCY_BUCKETS.forEach((le, i) => {
      if (seconds <= le) this.latency.buckets[i]!++;
    });
  }
}
