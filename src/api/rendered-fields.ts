/**
 * A task instance's `rendered_fields`, rendered when it is read, not stored when it runs: the task's start and end
 * write nothing more. The templates are rendered from the task instance's own run and DAG version (run names,
 * dates, conf, params and map index are fixed for a run, so these render exactly as the try saw them); variables,
 * connections and XComs are read as they are now, so one changed since the try ran shows its new value (what a
 * try really ran is in its log). Secrets are masked as in the log (domain/rendered-fields.ts).
 */
import { loadTemplateContext, renderedFields, renderedFieldTexts, taskOfSpec, type DagRunRecord, type TaskInstanceRecord } from "../domain";
import type { ApiStore } from "../store";

/**
 * The rendered fields of a task instance whose try has started (Airflow shows them once a task has run); `{}`
 * before, and for a task its run's DAG version no longer has.
 */
export async function renderedFieldsOf(store: ApiStore, ti: TaskInstanceRecord, run: DagRunRecord): Promise<Record<string, unknown>> {
  if (!ti.start_date) return {};
  const spec = await store.getDagVersion(run.version_id);
  const task = spec && taskOfSpec(spec, ti.task_id);
  if (!spec || !task) return {};
  const { ctx, secrets } = await loadTemplateContext(store, ti, run, spec, renderedFieldTexts(task));
  return renderedFields(task, ctx, secrets);
}
