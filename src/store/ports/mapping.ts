/**
 * MappingStore: dynamic task mapping (and max_active_tis_per_dag, which mapped tasks need most). The scheduler expands a mapped task's map_index -1 instance into its
 * instances; the agent RPC and the API read a mapped task's XComs as one list in map_index order (the reduce).
 */
import type { XComKey, XComRecord } from "../../domain";

/** One expansion: the mapped task's instance at map_index -1 becomes index 0 and `count - 1` siblings join it. */
export type TaskExpansion = { id: number; count: number };

/** A task across the runs of its DAG. */
export type ActiveTaskKey = { team: string; dag_id: string; task_id: string };

export interface MappingStore {
  /**
   * For each expansion, in one transaction: if the task instance is still `none` at map_index -1, it becomes
   * map_index 0 and instances 1..count-1 are created as copies of it (state none, same try, pool, weight);
   * an index that exists already `removed` (a mapped task cleared whole, scheduler/clear.ts clearsForRun) is
   * revived to `none` instead, keeping its id and tries; updated_at = now on all of them. Returns, per input,
   * whether it applied (false: it moved meanwhile).
   */
  expandTaskInstances(expansions: readonly TaskExpansion[], now: Date): Promise<boolean[]>;
  /**
   * Per task (team, dag_id, task_id): its task instances queued or running across all runs of the DAG, mapped
   * instances included (max_active_tis_per_dag). Asked only for the tasks that set that limit. One query.
   */
  countActiveByTask(tasks: readonly ActiveTaskKey[]): Promise<number[]>;
  /** The XComs `key` of every instance of a mapped task (map_index >= 0), in map_index order. */
  listMappedXComs(key: Omit<XComKey, "map_index">): Promise<XComRecord[]>;
}
