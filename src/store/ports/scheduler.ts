/**
 * SchedulerStore: what the scheduler reads and writes — the loop's sweep and tick (run gates, snapshots,
 * transitions, capacity, waiting notes), the cron scheduler's due runs and the backfills it completes.
 */
import type {
  ActiveTaskCounts,
  DagRef,
  DagRunState,
  NewDagRun,
  DagRunRecord,
  PoolOccupancy,
  PreviousRunStates,
  RunGates,
  RunSnapshot,
  ScheduledDag,
  TaskInstanceRecord,
  TaskNoteUpdate,
  TaskTransition,
  XComKey,
  XComRecord,
} from "../../domain";
import type { RecordLookups } from "./lookups";
import type { MappingStore } from "./mapping";

/** The version of a task instance the caller holds (loadRunChanges). */
export type KnownTaskInstance = Pick<TaskInstanceRecord, "id" | "state" | "try_number" | "updated_at">;

/** Where a read of a run's changes left off (opaque to the caller): the next read returns what changed after it. */
export type ChangeCursor = string;

/** A run with its task instances that changed (loadRunChanges), and the cursor to read its next changes from. */
export type RunChanges = RunSnapshot & { cursor: ChangeCursor };

/** One conditional run state change of a batch (setDagRunStates). */
export type DagRunStateChange = { id: number; from: DagRunState[]; to: DagRunState; note?: string };

/** What a tick woken by events reads before it plans (loadTickReads). */
export interface TickReads {
  snapshots: RunSnapshot[];
  gates: RunGates;
  active: ActiveTaskCounts;
  pools: PoolOccupancy[];
}

/** MappingStore and getXCom: the loop expands mapped tasks over their upstreams' XComs (scheduler/expansion-step.ts). */
export interface SchedulerStore extends Pick<RecordLookups, "getDagVersion">, MappingStore {
  /** One XCom (AgentRpcStore.getXCom). */
  getXCom(key: XComKey): Promise<XComRecord | null>;
  /** Ids of runs in queued or running state, oldest first. */
  listActiveRunIds(): Promise<number[]>;
  /**
   * The runs with a task instance written after `cursor` (the cursor an earlier call answered), so a sweep reloads
   * only those, and the cursor to pass next time; without a cursor, no runs, only the cursor. It names at least
   * every queued or running run changed since (ascending, no duplicates) and may name others. Exact on both: SQLite
   * by its change counter (migration 0018), Postgres by its transactions' change stamps against the previous read's
   * snapshot (migration 0023), whatever the writers' clocks.
   */
  listRunIdsChangedAfter(cursor: string | null): Promise<{ runIds: number[]; cursor: string }>;
  /**
   * What the loop needs to decide which of `runIds` it may plan: each run still queued or running (others
   * omitted) with its team, dag_id and backfill_id; per DAG of those runs (by teamKey): is_paused, the current spec's
   * max_active_runs and its count of RUNNING runs with no backfill; per backfill of those runs: is_paused,
   * max_active_runs and its count of RUNNING runs. `dags`: DAGs whose gates are wanted besides (the DAGs of runs
   * the caller only needs to know paused or not), each in `dags` as those of the runs are; unknown ones omitted.
   * One read transaction.
   */
  loadRunGates(runIds: number[], dags?: readonly DagRef[]): Promise<RunGates>;
  /**
   * A woken tick's reads at once, each answered as its own read is: loadRunSnapshots(snapshotIds),
   * loadRunGates(gateIds, gateDags), countActiveTaskInstances() and listPoolUsage(). One statement on Postgres (an
   * inline task hop waits on it); SQLite makes the four reads in turn.
   */
  loadTickReads(snapshotIds: number[], gateIds: number[], gateDags?: readonly DagRef[]): Promise<TickReads>;
  /** Runs with their task instances, for planning (ids not found are omitted). */
  loadRunSnapshots(runIds: number[]): Promise<RunSnapshot[]>;
  /**
   * What changed in runs the caller already holds: each run (ids not found are omitted) with only those of
   * its task instances that are missing from `known` or differ from it in state, try_number or updated_at
   * (every state write stamps updated_at; note-only writes do not and are not reported). One consistent read,
   * so a large run costs the rows that changed, not all of them. `known` is by task instance id, and needs only
   * the runs without a cursor (a held run's first refresh after a full read).
   * A run with a cursor in `since` (the one its previous read returned) is not compared: it comes with the task
   * instances inserted, or written in state, try_number or updated_at, after that read (migration 0018 stamps
   * them), which costs the changes, not the run's size. Every run returned carries the cursor of this read.
   */
  loadRunChanges(
    runIds: number[],
    known: ReadonlyMap<number, KnownTaskInstance>,
    since?: ReadonlyMap<number, ChangeCursor>,
  ): Promise<RunChanges[]>;
  /**
   * For each given run (by id): the run of the same DAG with the greatest logical_date strictly before its
   * logical_date (ties: greatest id), with the states of all its task instances; previous is null when the
   * run has no logical_date or no earlier run exists. One query for all runs.
   */
  listPreviousRunStates(dagRunIds: number[]): Promise<PreviousRunStates[]>;
  /**
   * Applies a batch of conditional transitions in one transaction; returns, per input, whether it applied.
   * Sets updated_at = now on every applied row. An illegal transition (canTransition) is an
   * IllegalTransitionError and nothing is written.
   */
  applyTransitions(transitions: TaskTransition[], now: Date): Promise<boolean[]>;
  /** Conditional run state change; sets start_date on running and end_date on terminal states. */
  setDagRunState(id: number, from: DagRunState[], to: DagRunState, now: Date, note?: string): Promise<boolean>;
  /**
   * Several run state changes, each as setDagRunState makes it, in one transaction (the first sweep after a
   * start moves every queued run to running at once); returns, per input, whether it applied. A run named
   * twice sees its first change.
   */
  setDagRunStates(changes: readonly DagRunStateChange[], now: Date): Promise<boolean[]>;
  /**
   * Note-only writes for task instances that wait (pool slots, depends_on_past): `UPDATE task_instances SET
   * note WHERE id AND state`, one transaction; updated_at is left alone (no state changed). Returns per input.
   */
  setTaskInstanceNotes(updates: TaskNoteUpdate[]): Promise<boolean[]>;
  /**
   * Task instances in queued or running state, counted per team and DAG (max_active_tasks) and per team
   * with the pool slots they hold and the inline (http, executor "inline") ones running (team quotas).
   * System-wide: the scheduler weighs every team. One query.
   */
  countActiveTaskInstances(): Promise<ActiveTaskCounts>;
  /**
   * Every pool with the slots held in it, in one query (read once per dispatch): the sum of pool_slots of
   * its task instances in state running and queued (scheduled ones hold none; the API's pool reads count them).
   */
  listPoolUsage(): Promise<PoolOccupancy[]>;
  /**
   * Every DAG that is active, unpaused and has a non-null `spec.schedule` (current version), with the
   * logical_date of its latest run of run_type "scheduled" (null if none; manual and backfill runs do not
   * move the schedule) and its count of queued+running runs that belong to no backfill. One query, every team's
   * DAGs (each record carries its team; runs are counted within the DAG's team).
   */
  listScheduledDags(): Promise<ScheduledDag[]>;
  /**
   * Inserts the run and all its task instances, all in `input.team`, in one transaction. ConflictError on a
   * run_id the team's DAG already has (another team's DAG of the same id may have it too).
   */
  createDagRun(input: NewDagRun): Promise<DagRunRecord>;
  /**
   * Inserts many runs as createDagRun does, all committed together (the cron slot of many DAGs in one
   * round trip); returns, in input order, each created record or null where its run id was taken already
   * (also by an earlier input of the same call).
   */
  createDagRuns(inputs: readonly NewDagRun[]): Promise<(DagRunRecord | null)[]>;
  /** Sets completed_at = now on every backfill with completed_at null and no queued/running run; returns their ids. */
  completeFinishedBackfills(now: Date): Promise<number[]>;
}
