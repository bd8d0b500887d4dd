import { describe, expect, test } from "bun:test";
import {
  executorPolicyProblems,
  formatCpus,
  imageMatches,
  parseMemoryBytes,
  parseNanoCpus,
  policyViolations,
  type ExecutorPolicy,
} from "../../../src/domain";

const team = (executor_policy: ExecutorPolicy) => ({ name: "data-eng", executor_policy });

describe("quantities", () => {
  test.each([
    ["500m", 0.5e9],
    ["2", 2e9],
    [2, 2e9],
    ["1.5", 1.5e9],
    ["250m", 0.25e9],
  ] as const)("cpu %p is %p nano-CPUs", (q, nanos) => expect(parseNanoCpus(q)).toBe(nanos));

  test.each(["two", "", "-1", "0", "1.5m5", "2cores"])("cpu %p is not a quantity", (q) => expect(parseNanoCpus(q)).toBeNull());

  test.each([
    ["512Mi", 512 * 2 ** 20],
    ["4Gi", 4 * 2 ** 30],
    ["1G", 1e9],
    ["1k", 1000],
    ["1Ki", 1024],
    ["256m", 256 * 2 ** 20], // Docker's spelling: MiB, as the container executors read it
    ["1048576", 2 ** 20],
    ["1Ti", 2 ** 40],
  ] as const)("memory %p is %p bytes", (q, bytes) => expect(parseMemoryBytes(q)).toBe(bytes));

  test.each(["lots", "4 Gigs", "0", "-4Gi", "4GiB"])("memory %p is not a quantity", (q) => expect(parseMemoryBytes(q)).toBeNull());

  test("cores print without float noise", () => {
    expect(formatCpus(0.1e9 + 0.2e9)).toBe("0.3");
    expect(formatCpus(8e9)).toBe("8");
  });
});

describe("imageMatches", () => {
  test.each([
    ["python:3.12", "python:3.*", true],
    ["python:2.7", "python:3.*", false],
    ["ghcr.io/acme/etl:1", "ghcr.io/acme/*", true],
    ["ghcr.io/acme/team/etl:1", "ghcr.io/acme/*", true],
    ["ghcr.io/acmex/etl:1", "ghcr.io/acme/*", false],
    ["alpine:3", "alpine:3", true],
    ["alpine:3.19", "alpine:3", false],
    // Dots and other regex characters in a pattern are literal.
    ["pythonX3.12", "python.3.*", false],
    ["evil/miner:latest", "*", true],
  ])("%p against %p is %p", (image, pattern, expected) => expect(imageMatches(image, pattern)).toBe(expected));
});

describe("policyViolations", () => {
  const allowlist = team({ images: ["python:3.*", "ghcr.io/acme/*"] });

  test("an image outside the allowlist names the team, the image, the task and what is allowed", () => {
    expect(policyViolations({ task_id: "mine", image: "evil/miner:latest" }, "docker", allowlist)).toEqual([
      "team data-eng may not use image evil/miner:latest (task mine); allowed: python:3.*, ghcr.io/acme/*",
    ]);
  });

  test("an allowed image passes on docker and kubernetes", () => {
    expect(policyViolations({ task_id: "t", image: "ghcr.io/acme/etl:2" }, "docker", allowlist)).toEqual([]);
    expect(policyViolations({ task_id: "t", image: "python:3.12" }, "kubernetes", allowlist)).toEqual([]);
  });

  test("a task without an image is checked against the executor's default image", () => {
    expect(policyViolations({ task_id: "t" }, "docker", allowlist, { image: "python:3.12-slim" })).toEqual([]);
    expect(policyViolations({ task_id: "t" }, "docker", allowlist, { image: "alpine:3" })).toEqual([
      "task t names no image, so it would run the executor's default image alpine:3, which team data-eng may not use; allowed: python:3.*, ghcr.io/acme/*; set the task's image",
    ]);
  });

  test("images and resources mean nothing to executors without containers", () => {
    const strict = team({ images: ["python:3.*"], max_cpu: "1", max_memory: "1Gi" });
    const task = { task_id: "t", image: "evil/miner:latest", resources: { cpu: 64, memory: "1Ti" } };
    expect(policyViolations(task, "subprocess", strict)).toEqual([]);
    expect(policyViolations(task, "inline", strict)).toEqual([]);
  });

  test("an executor outside the team's list is refused, with the list", () => {
    const k8sOnly = team({ executors: ["kubernetes"] });
    expect(policyViolations({ task_id: "t" }, "subprocess", k8sOnly)).toEqual([
      "team data-eng may not use the subprocess executor (task t); allowed: kubernetes",
    ]);
    expect(policyViolations({ task_id: "t" }, "kubernetes", k8sOnly)).toEqual([]);
  });

  test("an empty list allows nothing, and says why", () => {
    expect(policyViolations({ task_id: "t" }, "subprocess", team({ executors: [] }))).toEqual([
      "team data-eng may not use the subprocess executor (task t); allowed: none (the team's executor_policy.executors is empty)",
    ]);
    expect(policyViolations({ task_id: "t", image: "python:3.12" }, "docker", team({ images: [] }))).toEqual([
      "team data-eng may not use image python:3.12 (task t); allowed: none (the team's executor_policy.images is empty)",
    ]);
  });

  test("cpu and memory above the team's maxima, whichever field the task sets them in", () => {
    const capped = team({ max_cpu: "2", max_memory: "4Gi" });
    expect(policyViolations({ task_id: "train", resources: { cpu: "8", memory: "16Gi" } }, "kubernetes", capped)).toEqual([
      "task train requests cpu 8 but team data-eng allows at most 2",
      "task train requests memory 16 GiB but team data-eng allows at most 4 GiB",
    ]);
    expect(policyViolations({ task_id: "t", resources: { limits: { cpu: "2500m" } } }, "docker", capped, { memory: "1Gi" })).toEqual([
      "task t requests cpu 2.5 but team data-eng allows at most 2",
    ]);
    expect(policyViolations({ task_id: "t", resources: { requests: { memory: "5G" } } }, "docker", capped, { cpu: 1 })).toEqual([
      "task t requests memory 4.7 GiB but team data-eng allows at most 4 GiB",
    ]);
  });

  test("exactly the maximum is allowed; limits win over requests", () => {
    const capped = team({ max_cpu: "500m", max_memory: "512Mi" });
    const task = { task_id: "t", resources: { limits: { cpu: "0.5", memory: "512Mi" }, requests: { cpu: "4", memory: "8Gi" } } };
    expect(policyViolations(task, "kubernetes", capped)).toEqual([]);
  });

  test("the executor's defaults count when the task sets no resources", () => {
    const capped = team({ max_cpu: "2", max_memory: "4Gi" });
    expect(policyViolations({ task_id: "t" }, "docker", capped, { cpu: "1", memory: "512Mi" })).toEqual([]);
    expect(policyViolations({ task_id: "t" }, "docker", capped, { cpu: "4", memory: "8Gi" })).toEqual([
      "task t sets no cpu, so it gets the executor's default of 4, but team data-eng allows at most 2; set resources.cpu to at most 2",
      "task t sets no memory, so it gets the executor's default of 8 GiB, but team data-eng allows at most 4 GiB; set resources.memory to at most 4 GiB",
    ]);
    // No default known and none set: the container would run unbounded, which a maximum forbids.
    expect(policyViolations({ task_id: "t" }, "docker", team({ max_cpu: "2" }))).toEqual([
      "task t sets no cpu limit but team data-eng allows at most 2; set resources.cpu",
    ]);
  });

  test("a task quantity that is not one is named", () => {
    expect(policyViolations({ task_id: "t", resources: { cpu: "lots" } }, "docker", team({ max_cpu: "2" }))).toEqual([
      'task t: resources cpu "lots" is not a quantity; write e.g. "500m" or 2',
    ]);
  });

  test("a broken maximum in the policy fails closed and names the field to fix", () => {
    expect(policyViolations({ task_id: "t", resources: { memory: "1Gi" } }, "docker", team({ max_memory: "four gigs" }))).toEqual([
      `team data-eng's executor_policy.max_memory "four gigs" is not a memory quantity, so no task of the team may run in a container; an admin must correct the team's policy`,
    ]);
  });

  test("every violation is reported at once", () => {
    const strict = team({ executors: ["kubernetes"], images: ["python:3.*"], max_cpu: "1" });
    expect(policyViolations({ task_id: "t", image: "alpine:3", resources: { cpu: 2 } }, "docker", strict)).toHaveLength(3);
  });

  test("an empty policy allows everything", () => {
    expect(policyViolations({ task_id: "t", image: "any:1", resources: { cpu: 64, memory: "1Ti" } }, "docker", team({}))).toEqual([]);
  });
});

describe("executorPolicyProblems", () => {
  test("a sound policy has none", () => {
    expect(executorPolicyProblems({ max_cpu: "500m", max_memory: "4Gi", kubernetes_namespace: "team-data-eng" })).toEqual([]);
  });

  test("bad quantities and a namespace Kubernetes refuses are named", () => {
    expect(executorPolicyProblems({ max_cpu: "two", max_memory: "4 gigs", kubernetes_namespace: "Data_Eng" })).toEqual([
      'executor_policy.max_cpu "two" is not a CPU quantity; write e.g. "2" or "500m"',
      'executor_policy.max_memory "4 gigs" is not a memory quantity; write e.g. "4Gi" or "512Mi"',
      `executor_policy.kubernetes_namespace "Data_Eng" is not a Kubernetes namespace name; use 1–63 lower-case letters, digits and '-', starting and ending with a letter or digit`,
    ]);
  });
});
