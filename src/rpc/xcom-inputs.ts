/**
 * A try's XCom inputs ($LEOFLOW_XCOM_*: each upstream's return value, and the values its `inputs` name), as
 * GetTaskSpec and Register answer them; and the same read started ahead for a chain's next task. Its upstreams'
 * values are final once the last of them reports (an agent pushes its return value before its report), so the
 * read can run beside that report's write instead of after it: on Postgres a round trip less on a bash hop
 * (~1.1 ms of the ~11 traced).
 */
import { pullXCom, taskOfSpec, type DagRunRecord, type DagSpec, type TaskInstanceRecord, type XComPullPort } from "../domain";
import { xcomInputRefs } from "./task-context";

type XComInputs = Record<string, string>;

/** What a task's inputs are read for: its run and the DAG version it runs. */
export async function readXComInputs(
  store: XComPullPort,
  run: Pick<DagRunRecord, "team" | "dag_id" | "run_id">,
  spec: Pick<DagSpec, "tasks">,
  task: Parameters<typeof xcomInputRefs>[0],
): Promise<XComInputs> {
  const refs = xcomInputRefs(task);
  // A mapped upstream's values come as one list in map_index order (the reduce).
  const values = await Promise.all(refs.map((r) => pullXCom(store, run, spec, { xcom: r.taskId, key: r.key })));
  const inputs: XComInputs = {};
  // An upstream that returned nothing simply has no variable; the task decides whether that is an error.
  refs.forEach((r, i) => {
    const v = values[i];
    if (v !== undefined) inputs[r.name] = JSON.stringify(v);
  });
  return inputs;
}

/** A chain's next task, as the scheduler has it when its upstream's report arrives. */
export interface NextTask {
  ti: Pick<TaskInstanceRecord, "id" | "try_number" | "task_id">;
  run: Pick<DagRunRecord, "team" | "dag_id" | "run_id">;
  spec: Pick<DagSpec, "tasks">;
}

/** Reads kept at most this long (a hand-off's try is registered within milliseconds, or not at all). */
const KEPT_MS = 10_000;
/** Past this many unclaimed reads the table starts over (each hand-off whose launch failed leaves one). */
const MAX_KEPT = 256;

/** XCom inputs read ahead for tries about to start, claimed once by the spec that answers the try. */
export class XComInputsAhead {
  private readonly reads = new Map<string, { at: number; values: Promise<XComInputs> }>();

  constructor(
    private readonly store: XComPullPort,
    private readonly nowMs: () => number = () => performance.now(),
  ) {}

  /** Starts reading `next`'s inputs. */
  start(next: NextTask): void {
    const task = taskOfSpec(next.spec, next.ti.task_id);
    if (!task) return;
    if (this.reads.size >= MAX_KEPT) this.reads.clear();
    const values = readXComInputs(this.store, next.run, next.spec, task);
    values.catch(() => {}); // a failed read is read again by its claimer
    this.reads.set(key(next.ti), { at: this.nowMs(), values });
  }

  /** The inputs read ahead for try `ti`, once; undefined when none were (or too long ago). */
  take(ti: Pick<TaskInstanceRecord, "id" | "try_number">): Promise<XComInputs> | undefined {
    const k = key(ti);
    const read = this.reads.get(k);
    if (!read) return undefined;
    this.reads.delete(k);
    return this.nowMs() - read.at <= KEPT_MS ? read.values : undefined;
  }
}

const key = (ti: Pick<TaskInstanceRecord, "id" | "try_number">) => `${ti.id}:${ti.try_number}`;
