/** The API's response shapes the app reads (Airflow 3 REST API v2; only the fields used). */

export interface Dag {
  dag_id: string;
  is_paused: boolean;
  description: string | null;
  timetable_summary: string | null;
  timetable_description: string | null;
  tags: { name: string }[];
  owners: string[];
  next_dagrun_run_after: string | null;
  next_dagrun_logical_date?: string | null;
  fileloc: string;
}

export interface DagRun {
  dag_run_id: string;
  dag_id: string;
  state: string;
  run_type: string;
  logical_date: string | null;
  queued_at: string | null;
  start_date: string | null;
  end_date: string | null;
  duration: number | null;
  run_after: string;
  conf: Record<string, unknown> | null;
  note: string | null;
}

export interface TaskInstance {
  task_id: string;
  /** -1 unless the task is mapped (docs/mapping.md); null on a mapped task's folded entry (taskInstanceSummaries). */
  map_index?: number | null;
  /** Set on a mapped task's folded entry (taskInstanceSummaries): how many instances it has (removed ones apart). */
  mapped_count?: number;
  /** Set with mapped_count: its instances counted by state, most telling first (`{ running: 2, success: 48 }`). */
  mapped_states?: Record<string, number>;
  dag_id: string;
  dag_run_id: string;
  state: string | null;
  try_number: number;
  max_tries: number;
  start_date: string | null;
  end_date: string | null;
  duration: number | null;
  hostname: string | null;
  pool: string;
  operator: string | null;
  queued_when: string | null;
  note: string | null;
  /** The note a user wrote; `note` shows the system's reason where there is none. */
  user_note?: string | null;
  rendered_fields?: Record<string, unknown>;
  executor?: string | null;
}

/** What the DAG page's grid and graph draw of a task (GET …/leoflow/dags/{dag}/dagRuns/{run}/taskInstanceSummaries). */
export type TaskInstanceState = Pick<
  TaskInstance,
  "task_id" | "map_index" | "mapped_count" | "mapped_states" | "state" | "try_number" | "max_tries" | "start_date" | "end_date" | "duration"
>;

/** A task as the DAG page draws it (GET /api/v2/leoflow/dags/{dag_id}/structure). */
export interface Task {
  task_id: string;
  upstream_task_ids: string[];
  /** Mapped over a list (expand): its grid cells fold its instances. */
  is_mapped?: boolean;
}
