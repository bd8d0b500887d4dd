/**
 * checkKubernetesPolicy: what a DAG asks of the Kubernetes executor, checked when the DAG is loaded, so a DAG
 * asking for more than the operator allows, or for names Kubernetes refuses, is an import error naming the
 * field, not a pod that fails to create. Pure.
 *
 * Refused: an image outside --k8s-allowed-images; resources that are not quantities or are above
 * --k8s-max-cpu / --k8s-max-memory; a dag_id or task_id that is not a Kubernetes label value (≤ 63
 * characters, alphanumeric at both ends); env names Kubernetes refuses; a staging size that is not a quantity.
 *
 * @example checkKubernetesPolicy(spec, { allowedImages: ["registry.example/*"] }, settings, "kubernetes") // [] or issues
 */
import { errorMessage, type DagSpec, type TaskSpec } from "../../domain";
import { imageAllowed, type PolicyIssue } from "../docker/policy";
import { formatBytes, parseMemoryBytes, parseNanoCpus } from "../docker/quantities";
import { isLabelValue, MAX_NAME } from "./names";
import { resolveQuantities, type PodQuantities } from "./pod";
import type { KubernetesPolicy, KubernetesSettings } from "./settings";

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** True when the task runs in a pod: it names kubernetes, or it takes the standard executor and that is kubernetes. */
export function runsInKubernetes(task: Pick<TaskSpec, "executor" | "operator">, standardExecutor: string): boolean {
  if (task.executor) return task.executor === "kubernetes";
  return task.operator !== "http" && standardExecutor === "kubernetes";
}

export function checkKubernetesPolicy(
  spec: Pick<DagSpec, "dag_id" | "tasks" | "staging">,
  policy: KubernetesPolicy,
  settings: Pick<KubernetesSettings, "defaultCpu" | "defaultMemory">,
  standardExecutor: string,
): PolicyIssue[] {
  const issues: PolicyIssue[] = [];
  const maxMemory = policy.maxMemory !== undefined ? parseMemoryBytes(policy.maxMemory) : null;
  const maxCpu = policy.maxCpu !== undefined ? parseNanoCpus(policy.maxCpu) : null;
  const podTasks = spec.tasks.map((t, i) => [t, i] as const).filter(([t]) => runsInKubernetes(t, standardExecutor));
  if (podTasks.length === 0) return issues;
  const label = labelProblem(spec.dag_id);
  if (label)
    issues.push({
      path: "dag_id",
      message: `"${spec.dag_id}" ${label}, and its tasks run as Kubernetes pods labelled with it; rename the DAG`,
    });
  if (spec.staging?.enabled && spec.staging.size !== undefined && parseMemoryBytes(spec.staging.size) === null)
    issues.push({ path: "staging.size", message: `${JSON.stringify(spec.staging.size)} is not a storage quantity; write e.g. "1Gi"` });
  for (const [task, i] of podTasks) {
    const at = `tasks[${i}]`;
    const taskLabel = labelProblem(task.task_id);
    if (taskLabel)
      issues.push({
        path: `${at}.task_id`,
        message: `"${task.task_id}" ${taskLabel}, and the task runs as a Kubernetes pod labelled with it; rename the task`,
      });
    if (task.image && !imageAllowed(task.image, policy.allowedImages))
      issues.push({
        path: `${at}.image`,
        message: `image "${task.image}" is not allowed by this server (allowed: ${policy.allowedImages.join(", ")}); use an allowed image or ask the operator to add it to --k8s-allowed-images`,
      });
    for (const name of Object.keys(task.env ?? {}))
      if (!ENV_NAME.test(name))
        issues.push({
          path: `${at}.env.${name}`,
          message: `"${name}" is not an environment variable name Kubernetes accepts (letters, digits, '_', '-', '.', not starting with a digit)`,
        });
    let q: PodQuantities;
    try {
      q = resolveQuantities(task, settings);
    } catch (e) {
      issues.push({ path: `${at}.resources`, message: errorMessage(e) });
      continue;
    }
    if (maxMemory !== null && q.memoryBytes > maxMemory)
      issues.push({
        path: `${at}.resources`,
        message: `memory ${formatBytes(q.memoryBytes)} is above this server's cap of ${formatBytes(maxMemory)} (--k8s-max-memory)`,
      });
    if (maxCpu !== null && q.nanoCpus > maxCpu)
      issues.push({
        path: `${at}.resources`,
        message: `cpu ${q.nanoCpus / 1e9} is above this server's cap of ${maxCpu / 1e9} (--k8s-max-cpu)`,
      });
  }
  return issues;
}

function labelProblem(id: string): string | null {
  if (id.length > MAX_NAME) return `is ${id.length} characters, over the ${MAX_NAME} Kubernetes allows in a label value`;
  if (!isLabelValue(id)) return "must start and end with a letter or digit to be a Kubernetes label value";
  return null;
}
