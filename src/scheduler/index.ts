/** The scheduler: the pure planning core (planner, retries, priority, capacity, reaper rules) and its loop. */
export { planRun, finalizeRun, topologicalRanks, type PlanInput } from "./planner";
export { retryDelaySeconds, MAX_EXPONENTIAL_RETRY_DELAY_SECONDS } from "./retry";
export { effectivePriorityWeights } from "./priority";
export {
  fairOrder,
  sameLimits,
  sameQuotas,
  selectDispatchable,
  type DispatchCandidate,
  type CapacityLimits,
  type TeamQuotas,
} from "./capacity";
export { relatedTaskIds, selectClearTargets, clearFor, clearsForRun, requeueAfterClear, type ClearSelection } from "./clear";
export {
  planTaskMark,
  planRunMark,
  userNote,
  MARKABLE_TASK_STATES,
  MARKABLE_RUN_STATES,
  type MarkInput,
  type TaskMarkOptions,
} from "./mark";
export { needsPreviousRun, pastBlocks, type PreviousRun } from "./depends-on-past";
export { poolLimits, withWaitReason, waitCleared, waitingNotes, loadPastBlocks } from "./waiting";
export { isAgentLost, isDispatchLost, isOrphaned, reapDue, reapEveryMs } from "./reaper-rules";
export { buildDagRun, defaultRunId, runIdSuffix, resolveConf, type BuildDagRunOptions } from "./trigger";
export {
  FULL_SWEEP_EVERY,
  SchedulerLoop,
  type DispatchFailureHandler,
  type DispatchGate,
  type InlineStarter,
  type DueRunCreator,
  type Reaper,
  type SchedulerLoopOptions,
  type TeamQuotaSource,
} from "./loop";
export { systemClock, type Clock, type TimerHandle } from "./clock";
export {
  decideCampaign,
  INITIAL_CAMPAIGN,
  LeaderCampaign,
  type LeaderLock,
  type CampaignState,
  type LockObservation,
  type LeaderCampaignOptions,
} from "./leader-campaign";
export { decideTakeover, type LeaderSighting, type LeaderWatch, type TakeoverDecision } from "./leader-takeover";
export { leaderLockIdFor, LEADER_LOCK_ID, PgLeaderLock, type PgLeaderLockOptions } from "./pg-leader-lock";
export { registerSchedulerMetrics, registerStateGauges, STATE_GAUGES_TTL_MS } from "./metrics";
export { dueSlots, nextDueAt, nextSlot, scheduleInputOf, slotsBetween, type Slot, type ScheduleInput } from "./cron";
export { CronRunCreator, type CronRunCreatorOptions } from "./due-runs";
export { backfillDryRun, backfillSlots, backfillSkips, planBackfill, type BackfillRequest } from "./backfill";
export { selectRunsToPlan } from "./run-limits";
export { runTimeoutAt, planRunTimeout } from "./run-timeout";
export { reapNotes, Reapers, type ReaperThresholds, type ReapersOptions } from "./reapers";
export { SensorPoller, type SensorChecker, type SensorPollerOptions } from "./sensor-poller";
export { ClusterHealth, clusterSchedulerHealth, HEARTBEAT_EVERY_MS, type SchedulerHealth } from "./cluster-health";
