/** DAG-load refusals for tasks that run as pods, each with its field path. Table-driven. */
import { expect, test } from "bun:test";
import { checkKubernetesPolicy } from "../../../../src/executors/kubernetes";
import type { DagSpec, TaskSpec } from "../../../../src/domain";

const settings = { defaultCpu: "1", defaultMemory: "512Mi" };
const policy = { allowedImages: ["registry.example/*", "debian:*"], maxCpu: "2", maxMemory: "4Gi" };

function dag(task: Partial<TaskSpec>, over: Partial<DagSpec> = {}): Pick<DagSpec, "dag_id" | "tasks" | "staging"> {
  return { dag_id: "etl", tasks: [{ task_id: "t", operator: "bash", upstream: [], ...task } as TaskSpec], ...over };
}

test.each([
  ["an allowed image", dag({ image: "registry.example/etl:1" }), []],
  [
    "an image outside the allowlist",
    dag({ image: "evil/miner" }),
    [["tasks[0].image", /not allowed by this server.*--k8s-allowed-images/]],
  ],
  [
    "memory above the cap",
    dag({ resources: { memory: "8Gi" } }),
    [["tasks[0].resources", /memory 8 GiB is above this server's cap of 4 GiB \(--k8s-max-memory\)/]],
  ],
  [
    "cpu above the cap",
    dag({ resources: { limits: { cpu: 4 } } }),
    [["tasks[0].resources", /cpu 4 is above this server's cap of 2 \(--k8s-max-cpu\)/]],
  ],
  ["a resource that is not a quantity", dag({ resources: { memory: "big" } }), [["tasks[0].resources", /not a quantity/]]],
  ["a task_id over 63 characters", dag({ task_id: "t".repeat(64) }), [["tasks[0].task_id", /64 characters, over the 63/]]],
  ["a task_id ending in '_'", dag({ task_id: "load_" }), [["tasks[0].task_id", /start and end with a letter or digit/]]],
  ["a dag_id over 63 characters", dag({}, { dag_id: "d".repeat(70) }), [["dag_id", /70 characters/]]],
  ["an env name Kubernetes refuses", dag({ env: { "1BAD": "x" } }), [["tasks[0].env.1BAD", /not an environment variable name/]]],
  [
    "a staging size that is not a quantity",
    dag({}, { staging: { enabled: true, size: "huge" } }),
    [["staging.size", /not a storage quantity/]],
  ],
  ["an http task runs inline: nothing to check", dag({ operator: "http", task_id: "x".repeat(70) }), []],
  ["a task on another executor: nothing to check", dag({ executor: "subprocess", image: "evil/miner" }), []],
] as const)("%s", (_, spec, expected) => {
  const issues = checkKubernetesPolicy(spec, policy, settings, "kubernetes");
  expect(issues.map((i) => i.path)).toEqual(expected.map(([p]) => p));
  issues.forEach((issue, i) => {
    expect(issue.message).toMatch(expected[i]![1]);
  });
});

test("a task naming kubernetes is checked under another standard executor", () => {
  expect(
    checkKubernetesPolicy(dag({ executor: "kubernetes", image: "evil/miner" }), policy, settings, "subprocess").map((i) => i.path),
  ).toEqual(["tasks[0].image"]);
});
