/**
 * A team's executor policy, checked: which executors its tasks may use, which images, how much CPU and
 * memory. The dispatcher calls policyViolations before a try is handed to an executor, so a team's tasks run
 * only where that team may run; a violation fails the try with these messages (no retry can fix them).
 * Checks fail closed: a list that is present allows only what it names (an empty list allows nothing), and a
 * maximum the policy sets applies also to what a task gets from the executor's defaults. Pure.
 *
 * @example
 * policyViolations({ task_id: "mine", image: "evil/miner:latest" }, "docker", { name: "data-eng", executor_policy: { images: ["python:3.*"] } })
 * // ["team data-eng may not use image evil/miner:latest (task mine); allowed: python:3.*"]
 */
import type { TaskSpec } from "./dag-spec";
import { formatBytes, formatCpus, parseMemoryBytes, parseNanoCpus } from "./quantities";
import { teamNameProblem, type ExecutorPolicy, type TeamRecord } from "./teams";

/** Executors that run a task in a container: the only ones an image or resource maxima mean anything to. */
export const CONTAINER_EXECUTORS: ReadonlySet<string> = new Set(["docker", "kubernetes"]);

/** What an executor gives a task that names none (its --*-default-image, --*-default-cpu, --*-default-memory). */
export interface TaskDefaults {
  image?: string;
  cpu?: string | number;
  memory?: string;
}

type PolicyTask = Pick<TaskSpec, "task_id" | "image" | "resources">;
type PolicyTeam = Pick<TeamRecord, "name" | "executor_policy">;

/** Compiled patterns: every dispatch checks its image, and a team has a handful of patterns. */
const compiled = new Map<string, RegExp>();

/** `*` matches any run of characters (also none, also '/'); everything else matches itself. */
export function imageMatches(image: string, pattern: string): boolean {
  let re = compiled.get(pattern);
  if (!re) {
    const parts = pattern.split("*").map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
    re = new RegExp(`^${parts.join(".*")}$`);
    if (compiled.size >= 1024) compiled.clear(); // bounded: patterns come from admins, but never grow without end
    compiled.set(pattern, re);
  }
  return re.test(image);
}

/** Why `task`, launched by the executor named `executorName`, may not run for `team`; [] when it may. */
export function policyViolations(task: PolicyTask, executorName: string, team: PolicyTeam, defaults: TaskDefaults = {}): string[] {
  const policy = team.executor_policy;
  const out: string[] = [];
  if (policy.executors && !policy.executors.includes(executorName))
    out.push(
      `team ${team.name} may not use the ${executorName} executor (task ${task.task_id}); allowed: ${listed(policy.executors, "executors")}`,
    );
  if (!CONTAINER_EXECUTORS.has(executorName)) return out;
  const image = imageViolation(task, team, defaults.image);
  if (image) out.push(image);
  const r = task.resources ?? {};
  const cpu = limitViolation(task, team, {
    what: "cpu",
    field: "max_cpu",
    max: policy.max_cpu,
    own: r.limits?.cpu ?? r.cpu ?? r.requests?.cpu,
    fallback: defaults.cpu,
    parse: parseNanoCpus,
    format: formatCpus,
  });
  if (cpu) out.push(cpu);
  const memory = limitViolation(task, team, {
    what: "memory",
    field: "max_memory",
    max: policy.max_memory,
    own: r.limits?.memory ?? r.memory ?? r.requests?.memory,
    fallback: defaults.memory,
    parse: parseMemoryBytes,
    format: formatBytes,
  });
  if (memory) out.push(memory);
  return out;
}

/** What is wrong with a policy an admin is about to store (quantities, namespace); [] when nothing. */
export function executorPolicyProblems(policy: ExecutorPolicy): string[] {
  const out: string[] = [];
  if (policy.max_cpu !== undefined && parseNanoCpus(policy.max_cpu) === null)
    out.push(`executor_policy.max_cpu ${JSON.stringify(policy.max_cpu)} is not a CPU quantity; write e.g. "2" or "500m"`);
  if (policy.max_memory !== undefined && parseMemoryBytes(policy.max_memory) === null)
    out.push(`executor_policy.max_memory ${JSON.stringify(policy.max_memory)} is not a memory quantity; write e.g. "4Gi" or "512Mi"`);
  // A namespace name has the same shape as a team name: an RFC 1123 DNS label.
  if (policy.kubernetes_namespace !== undefined && teamNameProblem(policy.kubernetes_namespace))
    out.push(
      `executor_policy.kubernetes_namespace ${JSON.stringify(policy.kubernetes_namespace)} is not a Kubernetes namespace name; use 1–63 lower-case letters, digits and '-', starting and ending with a letter or digit`,
    );
  return out;
}

function imageViolation(task: PolicyTask, team: PolicyTeam, defaultImage: string | undefined): string | null {
  const allowed = team.executor_policy.images;
  if (!allowed) return null;
  const image = task.image ?? defaultImage;
  if (image !== undefined && allowed.some((p) => imageMatches(image, p))) return null;
  const list = listed(allowed, "images");
  if (task.image !== undefined) return `team ${team.name} may not use image ${image} (task ${task.task_id}); allowed: ${list}`;
  if (image === undefined) return `task ${task.task_id} names no image and team ${team.name} allows only: ${list}; set the task's image`;
  return `task ${task.task_id} names no image, so it would run the executor's default image ${image}, which team ${team.name} may not use; allowed: ${list}; set the task's image`;
}

interface LimitCheck {
  what: "cpu" | "memory";
  field: "max_cpu" | "max_memory";
  max: string | undefined;
  /** The task's own limit (limits.X, then X, then requests.X: what the executor would set). */
  own: string | number | undefined;
  fallback: string | number | undefined;
  parse: (q: string | number) => number | null;
  format: (n: number) => string;
}

function limitViolation(task: PolicyTask, team: PolicyTeam, c: LimitCheck): string | null {
  if (c.max === undefined) return null;
  const max = c.parse(c.max);
  if (max === null)
    return `team ${team.name}'s executor_policy.${c.field} ${JSON.stringify(c.max)} is not a ${c.what} quantity, so no task of the team may run in a container; an admin must correct the team's policy`;
  const cap = c.format(max);
  const quantity = c.own ?? c.fallback;
  if (quantity === undefined)
    return `task ${task.task_id} sets no ${c.what} limit but team ${team.name} allows at most ${cap}; set resources.${c.what}`;
  const asked = c.parse(quantity);
  if (asked === null)
    return `task ${task.task_id}: resources ${c.what} ${JSON.stringify(quantity)} is not a quantity; write e.g. ${c.what === "cpu" ? '"500m" or 2' : '"512Mi" or "1Gi"'}`;
  if (asked <= max) return null;
  if (c.own !== undefined) return `task ${task.task_id} requests ${c.what} ${c.format(asked)} but team ${team.name} allows at most ${cap}`;
  return `task ${task.task_id} sets no ${c.what}, so it gets the executor's default of ${c.format(asked)}, but team ${team.name} allows at most ${cap}; set resources.${c.what} to at most ${cap}`;
}

function listed(items: string[], field: string): string {
  return items.length ? items.join(", ") : `none (the team's executor_policy.${field} is empty)`;
}
