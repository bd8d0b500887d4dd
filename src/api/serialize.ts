/**
 * Records → Airflow 3 REST API v2 response shapes (DAGResponse, DAGRunResponse, TaskInstanceResponse, …):
 * same field names, ISO 8601 dates, `null` where Airflow has null (a task instance in state `none` has
 * `state: null`). Fields Airflow has but Leoflow does not model are present with their neutral value so
 * Airflow clients keep working.
 */
import { basename } from "node:path";
import type {
  DagSpec,
  TaskSpec,
  DagRecord,
  DagRunRecord,
  ImportErrorRecord,
  LogLineRecord,
  TaskInstanceRecord,
  XComRecord,
} from "../domain";
import { downstreamOfSpec, isMapped } from "../domain";

const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);
const seconds = (start: Date | null, end: Date | null): number | null => (start && end ? (end.getTime() - start.getTime()) / 1000 : null);

/** An ISO 8601 duration (`P1DT2H0M30S`) for seconds: how Airflow's DAG details write a timedelta. */
export function isoDuration(secs: number | undefined | null): string | null {
  if (secs == null) return null;
  const days = Math.floor(secs / 86400);
  const h = Math.floor((secs % 86400) / 3600);
  const m = Math.floor((secs % 3600) / 60);
  const sec = Math.round((secs % 60) * 1e6) / 1e6;
  return `P${days ? `${days}D` : ""}T${h}H${m}M${sec}S`;
}

/** Airflow's TimeDelta object for a duration in seconds. */
export function timeDelta(secs: number | undefined | null) {
  if (secs == null) return null;
  const days = Math.floor(secs / 86400);
  const rest = secs - days * 86400;
  const whole = Math.floor(rest);
  return { __type: "TimeDelta", days, seconds: whole, microseconds: Math.round((rest - whole) * 1e6) };
}

/**
 * Airflow's ids are UUIDs; Leoflow's are numbers. The same name always gives the same UUID: SHA-1 of a
 * Leoflow-only name, in the UUID v5 layout.
 */
function stableUuid(name: string): string {
  // The one-shot hash: no hasher object per call (a page of 1,000 task instances hashes 2,000 names).
  const b = Bun.CryptoHasher.hash("sha1", name) as Buffer;
  b[6] = (b[6]! & 0x0f) | 0x50;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.subarray(0, 16).toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** DAG versions' UUIDs already made: every task instance of a run names the same version (a page of 1,000, 1,000 times). */
const versionUuids = new Map<string, string>();
const VERSION_UUIDS_KEPT = 4_096;

/** A DAG version's UUID: the same (dag_id, version) always gives the same one. */
export function dagVersionUuid(dagId: string, versionId: number): string {
  const name = `leoflow:dag_version:${dagId}:${versionId}`;
  let id = versionUuids.get(name);
  if (id === undefined) {
    if (versionUuids.size >= VERSION_UUIDS_KEPT) versionUuids.clear();
    versionUuids.set(name, (id = stableUuid(name)));
  }
  return id;
}

/**
 * What the DAG page's grid and graph draw of a task instance (TaskInstanceStateResponse), and the same fields of
 * TaskInstanceResponse (serializeTaskInstance builds on it): nothing to hash or look up.
 */
export function serializeTaskInstanceState(
  ti: Pick<TaskInstanceRecord, "task_id" | "state" | "try_number" | "max_tries" | "start_date" | "end_date"> & { map_index: number | null },
) {
  return {
    task_id: ti.task_id,
    map_index: ti.map_index,
    state: ti.state === "none" ? null : ti.state,
    try_number: ti.try_number,
    max_tries: ti.max_tries,
    start_date: iso(ti.start_date),
    end_date: iso(ti.end_date),
    duration: seconds(ti.start_date, ti.end_date),
  };
}

/** A task instance's UUID, from its row id (unique for the server's lifetime). */
export const taskInstanceUuid = (id: number): string => stableUuid(`leoflow:task_instance:${id}`);

/** What a response shows of each DAG version it names (its creation time and per-DAG number), by version id (see version-times.ts). */
export type VersionTimes = ReadonlyMap<number, VersionShown>;
export interface VersionShown {
  created_at: Date;
  /** Airflow's version_number: 1, 2, 3 … within the DAG (the id is server-wide). */
  version_number: number;
}

/** A DagVersionResponse; `versionId` (server-wide) only makes its UUID, the number shown is the per-DAG one. */
export function dagVersion(dagId: string, versionId: number, version: VersionShown | null | undefined) {
  return {
    id: dagVersionUuid(dagId, versionId),
    version_number: version?.version_number ?? null,
    dag_id: dagId,
    bundle_name: null,
    bundle_version: null,
    created_at: iso(version?.created_at),
    bundle_url: null,
    dag_display_name: dagId,
  };
}

/** What DAGResponse shows of the DAG's next run: the slot the scheduler creates next (api/next-dagrun.ts). */
export interface NextDagRun {
  logical_date: Date;
  data_interval_start: Date;
  data_interval_end: Date;
  run_after: Date;
}

/**
 * DAGResponse; `next` is the DAG's next run (null: none will be created, as for a DAG without a schedule);
 * `importErrors`: its file has import errors now (the DAG keeps its last good version meanwhile, dags/folder-sync.ts).
 */
export function serializeDag(dag: DagRecord, next: NextDagRun | null = null, importErrors = false) {
  const s = dag.spec;
  return {
    dag_id: dag.dag_id,
    dag_display_name: dag.dag_id,
    is_paused: dag.is_paused,
    is_stale: !dag.is_active,
    last_parsed_time: iso(dag.last_parsed_at),
    last_expired: null,
    bundle_name: null,
    bundle_version: null,
    relative_fileloc: basename(dag.fileloc),
    fileloc: dag.fileloc,
    description: s.description ?? null,
    timetable_summary: s.schedule,
    timetable_description: describeSchedule(s.schedule),
    // Airflow 3.2: whether the timetable makes partitioned runs; Leoflow's never do.
    timetable_partitioned: false,
    tags: s.tags.map((name) => ({ name, dag_id: dag.dag_id, dag_display_name: dag.dag_id })),
    max_active_tasks: s.max_active_tasks,
    max_active_runs: s.max_active_runs,
    max_consecutive_failed_dag_runs: 0,
    has_task_concurrency_limits: false,
    has_import_errors: importErrors,
    next_dagrun_logical_date: iso(next?.logical_date),
    next_dagrun_data_interval_start: iso(next?.data_interval_start),
    next_dagrun_data_interval_end: iso(next?.data_interval_end),
    next_dagrun_run_after: iso(next?.run_after),
    owners: dagOwners(s),
    file_token: Buffer.from(dag.fileloc).toString("base64url"),
    // Leoflow addition: the DAG version new runs pin.
    version_id: dag.version_id,
  };
}

/** Airflow's DAG owners: the distinct owners of its tasks (default_args.owner fills them), in task order. */
export function dagOwners(spec: DagSpec): string[] {
  return [...new Set(spec.tasks.flatMap((t) => (t.owner ? [t.owner] : [])))];
}

function describeSchedule(schedule: string | null): string {
  if (schedule === null) return "Never, external triggers only";
  if (schedule === "@once") return "Once, as soon as possible";
  return schedule.startsWith("@") ? `${schedule.slice(1)}` : `cron: ${schedule}`;
}

/** DAGDetailsResponse: the DAG plus its schedule bounds, params and defaults. */
export function serializeDagDetails(
  dag: DagRecord,
  version: VersionShown | null = null,
  next: NextDagRun | null = null,
  importErrors = false,
) {
  const s = dag.spec;
  return {
    ...serializeDag(dag, next, importErrors),
    catchup: s.catchup,
    dag_run_timeout: isoDuration(s.dagrun_timeout),
    asset_expression: null,
    doc_md: s.doc_md ?? null,
    start_date: s.start_date ?? null,
    end_date: s.end_date ?? null,
    is_paused_upon_creation: s.is_paused_upon_creation ?? null,
    params: serializeParams(s.params),
    render_template_as_native_obj: false,
    template_search_path: null,
    timezone: s.timezone,
    last_parsed: iso(dag.last_parsed_at),
    default_args: s.default_args,
    concurrency: s.max_active_tasks,
    latest_dag_version: dagVersion(dag.dag_id, dag.version_id, version),
  };
}

/** Airflow's serialized ParamsDict: `{name: {value, description, schema}}`, what a trigger form needs. */
function serializeParams(params: DagSpec["params"]) {
  return Object.fromEntries(
    Object.entries(params).map(([name, p]) => {
      const { default: value, description, ...schema } = p;
      return [name, { value: value ?? null, description: description ?? null, schema }];
    }),
  );
}

/** TaskResponse for one task of the DAG. */
export function serializeTask(task: TaskSpec, spec: DagSpec) {
  return {
    task_id: task.task_id,
    task_display_name: task.task_id,
    owner: task.owner ?? null,
    start_date: spec.start_date ?? null,
    end_date: spec.end_date ?? null,
    trigger_rule: task.trigger_rule,
    depends_on_past: task.depends_on_past,
    wait_for_downstream: false,
    retries: task.retries,
    queue: null,
    pool: task.pool,
    pool_slots: task.pool_slots,
    execution_timeout: timeDelta(task.execution_timeout),
    retry_delay: timeDelta(task.retry_delay),
    // Airflow 3.2's is the backoff multiplier (0: off); Leoflow's backoff doubles the delay.
    retry_exponential_backoff: task.retry_exponential_backoff ? 2 : 0,
    priority_weight: task.priority_weight,
    weight_rule: task.weight_rule,
    ui_color: null,
    ui_fgcolor: null,
    template_fields: [],
    downstream_task_ids: downstreamOfSpec(spec, task.task_id),
    doc_md: task.doc_md ?? null,
    operator_name: task.operator,
    params: {},
    class_ref: null,
    is_mapped: isMapped(task),
    extra_links: [],
    // Leoflow additions: the graph edges as written, and where the task runs.
    upstream_task_ids: task.upstream,
    executor: task.executor ?? null,
  };
}

/** Airflow's run_after: when the run may start; the trigger's when it gave one, else the logical date, else when it was queued. */
const runAfter = (run: DagRunRecord): string => (run.run_after ?? run.logical_date ?? run.queued_at).toISOString();

const TRIGGERED_BY = { manual: "rest_api", scheduled: "timetable", backfill: "backfill" } as const;

export function serializeDagRun(run: DagRunRecord, versionTimes: VersionTimes) {
  return {
    dag_run_id: run.run_id,
    dag_id: run.dag_id,
    logical_date: iso(run.logical_date),
    queued_at: iso(run.queued_at),
    start_date: iso(run.start_date),
    end_date: iso(run.end_date),
    duration: seconds(run.start_date, run.end_date),
    data_interval_start: iso(run.data_interval_start),
    data_interval_end: iso(run.data_interval_end),
    run_after: runAfter(run),
    last_scheduling_decision: null,
    run_type: run.run_type,
    state: run.state,
    triggered_by: TRIGGERED_BY[run.run_type],
    triggering_user_name: run.triggering_user_name ?? null,
    conf: run.conf,
    note: run.note,
    dag_versions: [dagVersion(run.dag_id, run.version_id, versionTimes.get(run.version_id))],
    bundle_version: null,
    dag_display_name: run.dag_id,
  };
}

/** TaskInstanceResponse; `run` supplies logical_date/run_after and the DAG version (null when unknown). */
export function serializeTaskInstance(ti: TaskInstanceRecord, run: DagRunRecord | null, versionTimes: VersionTimes) {
  return {
    id: taskInstanceUuid(ti.id),
    // Task id, map index, state, try, tries allowed, times: as the DAG page's slimmer read gives them.
    ...serializeTaskInstanceState(ti),
    dag_id: ti.dag_id,
    dag_run_id: ti.run_id,
    logical_date: iso(run?.logical_date),
    run_after: run ? runAfter(run) : null,
    task_display_name: ti.task_id,
    dag_display_name: ti.dag_id,
    hostname: ti.hostname,
    unixname: null,
    pool: ti.pool,
    pool_slots: ti.pool_slots,
    queue: null,
    priority_weight: ti.priority_weight,
    operator: ti.operator,
    operator_name: ti.operator,
    queued_when: iso(ti.queued_at),
    scheduled_when: null,
    pid: ti.pid,
    executor: ti.executor,
    executor_config: "{}",
    // Airflow's note is the user's; Leoflow shows the system's reason (a full pool, an exit code) where none wrote one.
    note: ti.user_note ?? ti.note,
    // Leoflow addition: the user's note alone (null when the note shown is the system's reason), what an editor edits.
    user_note: ti.user_note ?? null,
    rendered_map_index: ti.map_index < 0 ? null : String(ti.map_index),
    rendered_fields: {},
    trigger: null,
    triggerer_job: null,
    dag_version: run ? dagVersion(run.dag_id, run.version_id, versionTimes.get(run.version_id)) : null,
    // Leoflow addition: when the agent last reported in.
    last_heartbeat: iso(ti.last_heartbeat),
  };
}

/** XComResponse (list) or, with `withValue`, XComResponseNative (single entry). */
export function serializeXCom(x: XComRecord, run: DagRunRecord | null, withValue: boolean) {
  const base = {
    key: x.key,
    timestamp: iso(x.timestamp),
    logical_date: iso(run?.logical_date),
    run_after: run ? runAfter(run) : null,
    map_index: x.map_index,
    task_id: x.task_id,
    dag_id: x.dag_id,
    run_id: x.run_id,
    dag_display_name: x.dag_id,
    task_display_name: x.task_id,
  };
  return withValue ? { ...base, value: x.value } : base;
}

export function serializeImportError(e: ImportErrorRecord) {
  return {
    import_error_id: e.id,
    timestamp: iso(e.timestamp),
    filename: e.filename,
    bundle_name: null,
    stack_trace: e.stack_trace,
  };
}

/** StructuredLogMessage: Airflow's `{timestamp, event}` plus the stream it came from. */
export function serializeLogLine(l: LogLineRecord) {
  return { timestamp: iso(l.timestamp), event: l.line, stream: l.stream };
}

/** A plain-text log line: `[2026-01-01T00:00:00.000Z] {stdout} hello`. */
export function formatLogLine(l: LogLineRecord): string {
  return `[${l.timestamp.toISOString()}] {${l.stream}} ${l.line}`;
}
