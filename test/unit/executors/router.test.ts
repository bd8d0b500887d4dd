import { describe, expect, test } from "bun:test";
import { Router, type Executor } from "../../../src/executors";

const fake = (name: string): Executor => ({ name, execute: async () => {} });

describe("Router", () => {
  const subprocess = fake("subprocess");
  const inline = fake("inline");
  const docker = fake("docker");
  const router = new Router(subprocess, [inline, docker]);

  test.each([
    [{ task_id: "a", operator: "bash" as const }, "subprocess"],
    [{ task_id: "b", operator: "python" as const }, "subprocess"],
    [{ task_id: "c", operator: "http" as const }, "inline"],
    [{ task_id: "d", operator: "bash" as const, executor: "docker" as const }, "docker"],
  ])("%o goes to %s", (task, expected) => {
    expect(router.executorFor(task).name).toBe(expected);
  });

  test("a task naming an executor the server does not run gets a precise error", () => {
    expect(() => router.executorFor({ task_id: "k", operator: "bash", executor: "kubernetes" })).toThrow(
      "task k needs the kubernetes executor, which this server does not run (available: subprocess, inline, docker)",
    );
  });
});
