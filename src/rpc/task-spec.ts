/**
 * What GetTaskSpec answers (and Register, when asked with include_spec): the try's task as the control plane
 * rendered it, its XCom inputs, its LEOFLOW_* environment and where its log lines start.
 */
import { create } from "@bufbuild/protobuf";
import { GetTaskSpecResponseSchema, type GetTaskSpecResponse } from "../gen/leoflow/agent/v1/agent_pb";
import { NotFoundError, taskOfSpec, type DagRunRecord, type DagSpec } from "../domain";
import type { AgentRpcStore } from "../store";
import { describe, type Caller } from "./caller";
import { effectiveParams, taskEnv } from "./task-context";
import { readXComInputs, type XComInputsAhead } from "./xcom-inputs";
import { renderTaskForAgent } from "./render-task";
import { mappedEnv } from "./mapped-env";
import { logSeqStart } from "./reschedule";

/** Past this many DAG versions the cache starts over (a version is re-read on its next try). */
const VERSIONS_KEPT = 256;

/**
 * taskSpecFor with the DAG versions it reads kept: a version is immutable, and every try of a run pins the
 * same one, so a chain's tries read it once. The try's run and its DAG's file come with Register's start
 * (GetTaskSpec reads the run first, then the DAG's file beside the rest); the version is cached, and the XCom
 * inputs of a try a chain's hand-off started were read beside that hand-off's write (`ahead`): a plain task's
 * spec waits for no read after its start.
 */
export function taskSpecReader(
  store: AgentRpcStore,
  ahead?: XComInputsAhead,
): (c: Caller, known?: KnownRun) => Promise<GetTaskSpecResponse> {
  const versions = new Map<number, Promise<DagSpec | null>>();
  const version = (id: number): Promise<DagSpec | null> => {
    let v = versions.get(id);
    if (!v) {
      if (versions.size >= VERSIONS_KEPT) versions.clear();
      v = store.getDagVersion(id);
      versions.set(id, v);
      // A failed or missing read is not kept: the next try asks the store again.
      v.then(
        (spec) => void (spec || versions.delete(id)),
        () => versions.delete(id),
      );
    }
    return v;
  };
  return (c, known) => taskSpecFor(store, c, version, known, ahead);
}

/** What Register's start read with it (TryStartWrite): the try's run and its DAG's file (null: the DAG is gone). */
export interface KnownRun {
  run?: DagRunRecord;
  dagFileloc?: string | null;
}

async function taskSpecFor(
  store: AgentRpcStore,
  c: Caller,
  version: (id: number) => Promise<DagSpec | null>,
  known?: KnownRun,
  ahead?: XComInputsAhead,
): Promise<GetTaskSpecResponse> {
  // Register passes what its start read in the same statement; GetTaskSpec reads them.
  const fromStart = known?.run?.id === c.ti.dag_run_id ? known : undefined;
  const run = fromStart?.run ?? (await store.getDagRunById(c.ti.dag_run_id));
  if (!run) throw new NotFoundError(`dag run ${c.ti.dag_run_id} of task instance ${describe(c.id)} does not exist`);
  const dagRead: Promise<string | null | undefined> =
    fromStart?.dagFileloc !== undefined
      ? Promise.resolve(fromStart.dagFileloc)
      : store.getDagHead(run.team, run.dag_id).then((d) => d?.fileloc);
  dagRead.catch(() => {}); // awaited below, unless the version is missing first
  const spec = await version(run.version_id);
  if (!spec) throw new NotFoundError(`DAG version ${run.version_id} pinned by run ${run.run_id} does not exist`);
  const task = taskOfSpec(spec, c.ti.task_id);
  if (!task)
    throw new NotFoundError(`task ${c.ti.task_id} is not in version ${run.version_id} of DAG ${run.dag_id}; it was removed from the DAG`);
  // Read ahead beside its upstream's report when a chain handed it on (xcom-inputs.ts); read now otherwise.
  const xcomInputs = (await ahead?.take(c.ti)?.catch(() => undefined)) ?? (await readXComInputs(store, run, spec, task));
  const params = effectiveParams(spec, run.conf);
  const rendered = await renderTaskForAgent(store, c.ti, run, spec, task);
  return create(GetTaskSpecResponseSchema, {
    dagId: run.dag_id,
    runId: run.run_id,
    taskId: task.task_id,
    tryNumber: c.ti.try_number,
    operator: task.operator,
    taskJson: JSON.stringify(rendered.task),
    env: { ...taskEnv({ task: rendered.task, run, ti: c.ti, params }), ...(await mappedEnv(store, run, spec, task, c.ti)) },
    xcomInputs,
    dagFile: (await dagRead) ?? "",
    timeoutSeconds: Math.ceil(task.execution_timeout ?? 0),
    logicalDate: run.logical_date ? run.logical_date.toISOString() : "",
    confJson: JSON.stringify(run.conf ?? {}),
    paramsJson: JSON.stringify(params),
    secrets: rendered.secrets,
    templateError: rendered.error,
    pythonRequirements: task.operator === "python" ? (spec.requirements ?? []) : [],
    logSeqStart: await logSeqStart(store, task, c.ti.id),
  });
}
