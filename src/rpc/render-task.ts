/**
 * GetTaskSpec's templates: the task's bash_command, env values and command/args rendered on the control
 * plane (domain/task-templates.ts), so a subprocess, a container and a pod all receive the same text. What a
 * template cannot render is not an RPC error but the try's failure: the agent reports it with this message.
 */
import {
  TemplateError,
  loadTemplateContext,
  renderTaskFields,
  taskTemplateTexts,
  type DagRunRecord,
  type DagSpec,
  type TaskInstanceRecord,
  type TaskSpec,
  type TemplateSourcePort,
} from "../domain";

export interface RenderedTask {
  task: TaskSpec;
  /** Values the templates read that the agent must mask. */
  secrets: string[];
  /** Why rendering failed; empty when it did not. */
  error: string;
}

export async function renderTaskForAgent(
  store: TemplateSourcePort,
  ti: TaskInstanceRecord,
  run: DagRunRecord,
  spec: DagSpec,
  task: TaskSpec,
): Promise<RenderedTask> {
  const texts = taskTemplateTexts(task);
  if (!texts.length) return { task, secrets: [], error: "" };
  const { ctx, secrets } = await loadTemplateContext(store, ti, run, spec, texts);
  try {
    return { task: renderTaskFields(task, ctx), secrets, error: "" };
  } catch (e) {
    if (e instanceof TemplateError) return { task, secrets, error: e.message };
    throw e;
  }
}
