/**
 * A mapped task's folded cell in words (pure). The server folds a mapped task's instances into one entry per run
 * (taskInstanceSummaries, domain/task-summaries.ts) with their count and their states counted, most telling first.
 */
import type { TaskInstance } from "./types";

/** A folded cell's states as people read them: `success×48, running×2`. */
export function describeMapped(ti: Pick<TaskInstance, "mapped_states">): string {
  return Object.entries(ti.mapped_states ?? {})
    .map(([s, n]) => `${s}×${n}`)
    .join(", ");
}
