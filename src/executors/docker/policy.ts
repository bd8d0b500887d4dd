/**
 * checkDockerPolicy: what a DAG asks of the Docker executor, checked against what the operator allows, so a
 * DAG asking for more is refused when it is loaded (an import error naming the field), not when a task runs.
 * DAGs cannot ask for privileges at all (the DagSpec has no such field); what they can choose is the image
 * and the resources, so the allowlist is image patterns plus CPU and memory caps. Pure.
 *
 * @example checkDockerPolicy(spec, { allowedImages: ["localhost/*"] }, settings, "docker") // [] or issues
 */
import { errorMessage, type DagSpec, type TaskSpec } from "../../domain";
import { resourceLimits, type ResolvedLimits } from "./container-spec";
import { formatBytes, parseMemoryBytes, parseNanoCpus } from "./quantities";
import type { DockerPolicy, DockerSettings } from "./settings";

export interface PolicyIssue {
  path: string;
  message: string;
}

/** True when the task runs in a container: it names docker, or it takes the standard executor and that is docker. */
export function runsInDocker(task: Pick<TaskSpec, "executor" | "operator">, standardExecutor: string): boolean {
  if (task.executor) return task.executor === "docker";
  return task.operator !== "http" && standardExecutor === "docker";
}

export function checkDockerPolicy(
  spec: Pick<DagSpec, "tasks">,
  policy: DockerPolicy,
  settings: Pick<DockerSettings, "defaultImage" | "defaultCpu" | "defaultMemory">,
  standardExecutor: string,
): PolicyIssue[] {
  const issues: PolicyIssue[] = [];
  const maxMemory = policy.maxMemory !== undefined ? parseMemoryBytes(policy.maxMemory) : null;
  const maxCpu = policy.maxCpu !== undefined ? parseNanoCpus(policy.maxCpu) : null;
  spec.tasks.forEach((task, i) => {
    if (!runsInDocker(task, standardExecutor)) return;
    const at = `tasks[${i}]`;
    if (task.image && !imageAllowed(task.image, policy.allowedImages))
      issues.push({
        path: `${at}.image`,
        message: `image "${task.image}" is not allowed by this server (allowed: ${policy.allowedImages.join(", ")}); use an allowed image or ask the operator to add it to --docker-allowed-images`,
      });
    let limits: ResolvedLimits;
    try {
      limits = resourceLimits(task, settings);
    } catch (e) {
      issues.push({ path: `${at}.resources`, message: errorMessage(e) });
      return;
    }
    if (maxMemory !== null && limits.memory > maxMemory)
      issues.push({
        path: `${at}.resources`,
        message: `memory ${formatBytes(limits.memory)} is above this server's cap of ${formatBytes(maxMemory)} (--docker-max-memory)`,
      });
    if (maxCpu !== null && limits.nanoCpus > maxCpu)
      issues.push({
        path: `${at}.resources`,
        message: `cpu ${limits.nanoCpus / 1e9} is above this server's cap of ${maxCpu / 1e9} (--docker-max-cpu)`,
      });
  });
  return issues;
}

/** `*` matches any run of characters; an empty list allows every image. */
export function imageAllowed(image: string, patterns: string[]): boolean {
  if (patterns.length === 0) return true;
  return patterns.some((p) => new RegExp(`^${p.split("*").map(escapeRegExp).join(".*")}$`).test(image));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
