/**
 * The candidates waiting for capacity, by task instance id (DispatchStep), answering which runs they belong to and
 * those runs' DAGs: every tick gates those runs (a pause must stop them, run-limits.ts heldRunning). The answer is
 * kept until an entry is set or deleted: a tick that changes nothing (10,000 runs waiting for a full pool) rebuilt
 * the same 10,000-entry map every time.
 */
import { teamKey, type DagRef } from "../domain";

/** The runs of the waiting candidates, each once, by id, and their DAGs, each once. */
export interface WaitingRuns {
  runs: ReadonlyMap<number, DagRef>;
  dags: readonly DagRef[];
}

export class WaitingCandidates<C extends { run: DagRef & { id: number } }> extends Map<number, C> {
  private kept: WaitingRuns | null = null;

  override set(id: number, candidate: C): this {
    this.kept = null;
    return super.set(id, candidate);
  }

  override delete(id: number): boolean {
    const had = super.delete(id);
    if (had) this.kept = null;
    return had;
  }

  override clear(): void {
    this.kept = null;
    super.clear();
  }

  runs(): WaitingRuns {
    if (this.kept) return this.kept;
    const runs = new Map<number, DagRef>();
    const dags = new Map<string, DagRef>();
    for (const { run } of this.values()) {
      if (runs.has(run.id)) continue;
      runs.set(run.id, run);
      const key = teamKey(run.team, run.dag_id);
      if (!dags.has(key)) dags.set(key, { team: run.team, dag_id: run.dag_id });
    }
    this.kept = { runs, dags: [...dags.values()] };
    return this.kept;
  }
}
