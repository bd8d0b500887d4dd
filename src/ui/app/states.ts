/**
 * Airflow's state palette (the colours its grid uses, so an Airflow user reads the grid at a glance) and
 * the states a mark may set. Pure data.
 */

export const STATE_COLORS: Record<string, string> = {
  success: "#008000",
  failed: "#ff0000",
  running: "#00ff00",
  queued: "#808080",
  scheduled: "#d2b48c",
  up_for_retry: "#ffd700",
  up_for_reschedule: "#40e0d0",
  upstream_failed: "#ffa500",
  skipped: "#ff69b4",
  removed: "#d3d3d3",
  deferred: "#9370db",
  restarting: "#ee82ee",
};

/** The colour of a state; `null` and `none` (no status yet) are drawn as an outline only. */
export const stateColor = (state: string | null | undefined): string | null => (state ? (STATE_COLORS[state] ?? null) : null);

export const stateLabel = (state: string | null | undefined): string => (state && state !== "none" ? state : "no status");

/** A state that will still change on its own (the log keeps following, the views keep listening). */
export const isActive = (state: string | null | undefined): boolean =>
  state === "running" ||
  state === "queued" ||
  state === "scheduled" ||
  state === "up_for_retry" ||
  state === "up_for_reschedule" ||
  state === "deferred" ||
  state == null ||
  state === "none";

export const MARKABLE_TASK_STATES = ["success", "failed", "skipped"] as const;
export const MARKABLE_RUN_STATES = ["success", "failed", "queued"] as const;
