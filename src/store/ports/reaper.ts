/** ReaperStore: what the reapers read (candidates, any age: the reaper decides) and their guarded writes. */
import type { OrphanCandidate, ReapTaskCandidate, TaskReap } from "../../domain";

export interface ReaperStore {
  /** Every `running` task instance whose last_heartbeat is set (Register sets it), any age. */
  listAgentLostCandidates(): Promise<ReapTaskCandidate[]>;
  /** Every `queued` task instance, with queued_at as stored (null included; the reaper treats null as alive). */
  listDispatchLostCandidates(): Promise<ReapTaskCandidate[]>;
  /**
   * Every `running` dag run none of whose task instances is scheduled, queued, running or up_for_retry,
   * with last_activity = the latest of the run's start_date and its task instances' start_date/end_date
   * (null when all are null).
   */
  listOrphanCandidates(): Promise<OrphanCandidate[]>;
  /**
   * Fails task instances in one transaction: per reap, `UPDATE … SET state='failed', end_date=now,
   * note=reap.note, updated_at=now WHERE id AND try_number AND state = reap.from AND <observed> IS
   * reap.observed_at`, where <observed> is last_heartbeat for from=running and queued_at for from=queued —
   * so a heartbeat or re-queue after the candidate was read makes the reap a no-op. Returns, per reap,
   * whether it applied. Legal by canTransition (running→failed, queued→failed); others are refused.
   */
  reapTaskInstances(reaps: TaskReap[], now: Date): Promise<boolean[]>;
  /**
   * In one transaction, only while run `id` is `running` and has no scheduled/queued/running/up_for_retry
   * task instance: the run → failed (end_date=now, note) and each of its task instances in state `none`
   * → failed (end_date=now, note). Returns whether the run was failed (false: state changed meanwhile).
   */
  reapOrphanedRun(id: number, note: string, now: Date): Promise<boolean>;
}
