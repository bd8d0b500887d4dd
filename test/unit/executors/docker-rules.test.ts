/** Docker executor decisions: the DAG allowlist, the reconciler's rules, the engine's log framing. Pure, no clock. */
import { describe, expect, test } from "bun:test";
import {
  checkDockerPolicy,
  decideContainer,
  decideStagingVolume,
  demuxLogLines,
  exitReason,
  imageAllowed,
  runsInDocker,
  type ContainerFacts,
  type TaskInstanceFacts,
} from "../../../src/executors";
import type { TaskSpec } from "../../../src/domain";

const NOW = new Date("2026-06-01T12:00:00Z");
const ago = (s: number) => new Date(NOW.getTime() - s * 1000);

describe("checkDockerPolicy: a DAG asking for more than the allowlist is refused at load", () => {
  const settings = { defaultImage: "debian:bookworm-slim", defaultCpu: "1", defaultMemory: "512Mi" };
  const task = (t: Partial<TaskSpec>) => ({ task_id: "t", operator: "bash", upstream: [], ...t }) as TaskSpec;
  const cases: [string, Partial<TaskSpec>, Parameters<typeof checkDockerPolicy>[1], string[]][] = [
    ["empty allowlist allows any image", { image: "anything:1" }, { allowedImages: [] }, []],
    ["image matching a pattern", { image: "localhost/team/app:3" }, { allowedImages: ["localhost/*"] }, []],
    ["image outside the patterns", { image: "docker.io/evil:1" }, { allowedImages: ["localhost/*", "python:3.*"] }, ["tasks[0].image"]],
    ["default image needs no allowlist entry", {}, { allowedImages: ["localhost/*"] }, []],
    ["memory above the cap", { resources: { memory: "16Gi" } }, { allowedImages: [], maxMemory: "8Gi" }, ["tasks[0].resources"]],
    ["cpu above the cap", { resources: { limits: { cpu: 8 } } }, { allowedImages: [], maxCpu: "4" }, ["tasks[0].resources"]],
    ["within both caps", { resources: { cpu: "2", memory: "1Gi" } }, { allowedImages: [], maxCpu: "4", maxMemory: "8Gi" }, []],
    ["unparsable resources", { resources: { memory: "lots" } }, { allowedImages: [] }, ["tasks[0].resources"]],
    ["http tasks run inline: not checked", { operator: "http", image: "evil" }, { allowedImages: ["localhost/*"] }, []],
    ["tasks on another executor: not checked", { executor: "subprocess", image: "evil" }, { allowedImages: ["localhost/*"] }, []],
  ];
  for (const [name, t, policy, paths] of cases)
    test(name, () => expect(checkDockerPolicy({ tasks: [task(t)] }, policy, settings, "docker").map((i) => i.path)).toEqual(paths));

  test("the message says what is allowed and which flag changes it", () => {
    const [issue] = checkDockerPolicy({ tasks: [task({ image: "evil:1" })] }, { allowedImages: ["localhost/*"] }, settings, "docker");
    expect(issue!.message).toBe(
      'image "evil:1" is not allowed by this server (allowed: localhost/*); use an allowed image or ask the operator to add it to --docker-allowed-images',
    );
  });

  test.each([
    ["python:3.12", ["python:*"], true],
    ["python:3.12", ["python:3.11"], false],
    ["a.b/c", ["a.b/*"], true],
    ["axb/c", ["a.b/*"], false],
  ])("imageAllowed(%p, %p) = %p", (image, patterns, want) => expect(imageAllowed(image, patterns)).toBe(want));

  test.each([
    [{ operator: "bash" }, "docker", true],
    [{ operator: "bash" }, "subprocess", false],
    [{ operator: "bash", executor: "docker" }, "subprocess", true],
    [{ operator: "http" }, "docker", false],
  ] as [Pick<TaskSpec, "operator" | "executor">, string, boolean][])("runsInDocker(%p, %p) = %p", (t, std, want) =>
    expect(runsInDocker(t, std)).toBe(want),
  );
});

describe("decideContainer", () => {
  const exited = (over: Partial<ContainerFacts> = {}): ContainerFacts => ({
    status: "exited",
    exitCode: 1,
    oomKilled: false,
    error: "",
    finishedAt: ago(5),
    tryNumber: 1,
    memoryLimit: 64 * 2 ** 20,
    ...over,
  });
  const running = (over: Partial<ContainerFacts> = {}) => exited({ status: "running", finishedAt: null, ...over });
  const ti = (state: TaskInstanceFacts["state"], try_number = 1, end_date: Date | null = null): TaskInstanceFacts => ({
    state,
    try_number,
    end_date,
  });
  const grace = 60_000;
  const cases: [string, ContainerFacts, TaskInstanceFacts | null, boolean, string][] = [
    ["running container of a running try: keep", running(), ti("running"), false, "keep"],
    ["exited while its try runs: fail, keep the container for the grace", exited(), ti("running"), false, "fail:keep"],
    ["exited while queued (agent never registered): fail", exited({ exitCode: 137 }), ti("queued"), false, "fail:keep"],
    ["exited long ago while running: fail and remove", exited({ finishedAt: ago(120) }), ti("running"), false, "fail:remove"],
    ["agent reported, container finished recently: keep for logs", exited({ exitCode: 0 }), ti("success"), false, "keep"],
    ["agent reported, grace passed: remove", exited({ exitCode: 0, finishedAt: ago(61) }), ti("success"), false, "remove"],
    ["older try's container exited: not failing the new try", exited({ tryNumber: 1 }), ti("running", 2), false, "keep"],
    ["running container of a try marked failed, within grace: keep", running(), ti("failed", 1, ago(10)), false, "keep"],
    ["running container of a try marked failed, past grace: stop and remove", running(), ti("failed", 1, ago(90)), false, "remove:stop"],
    ["start-up: terminal try's container goes at once", exited({ finishedAt: ago(1) }), ti("success"), true, "remove"],
    ["start-up: running container of a finished try is stopped", running(), ti("failed", 1, ago(1)), true, "remove:stop"],
    ["start-up: container whose task instance is gone", exited(), null, true, "remove"],
    ["start-up: live try keeps its container", running(), ti("running"), true, "keep"],
  ];
  for (const [name, container, facts, startup, want] of cases)
    test(name, () => {
      const d = decideContainer({ container, ti: facts, now: NOW, graceMs: grace, startup });
      const got =
        d.action === "fail"
          ? `fail:${d.remove ? "remove" : "keep"}`
          : d.action === "remove"
            ? d.stopFirst
              ? "remove:stop"
              : "remove"
            : "keep";
      expect(got).toBe(want);
    });
});

describe("exitReason", () => {
  const base = { status: "exited", error: "", memoryLimit: 8 * 2 ** 20, oomKilled: false };
  test.each([
    [{ ...base, exitCode: 137, oomKilled: true }, "container was OOM-killed (memory limit 8 MiB) before the agent reported a final state"],
    [
      { ...base, exitCode: 137 },
      "container exited with code 137: killed by SIGKILL (out of memory (memory limit 8 MiB), or stopped from outside) before the agent reported a final state",
    ],
    [{ ...base, exitCode: 2 }, "container exited with code 2 before the agent reported a final state"],
    [
      { ...base, exitCode: 127, error: "exec: no such file" },
      "container exited with code 127: exec: no such file before the agent reported a final state",
    ],
    [{ ...base, exitCode: 143 }, "container exited with code 143: killed by SIGTERM before the agent reported a final state"],
  ])("%p", (facts, want) => expect(exitReason(facts)).toBe(want));
});

describe("decideStagingVolume (reclaimed like the Kubernetes staging claim)", () => {
  const ttl = 3600_000;
  test.each([
    ["unknown run", null, true],
    ["successful run", { state: "success", end_date: ago(1) }, true],
    ["failed run within the TTL", { state: "failed", end_date: ago(60) }, false],
    ["failed run past the TTL", { state: "failed", end_date: ago(3601) }, true],
    ["running run", { state: "running", end_date: null }, false],
  ] as [string, { state: string; end_date: Date | null } | null, boolean][])("%s", (_name, run, remove) =>
    expect(decideStagingVolume(run, NOW, ttl).remove).toBe(remove),
  );
});

describe("demuxLogLines", () => {
  const frame = (stream: number, text: string) => {
    const body = new TextEncoder().encode(text);
    const head = new Uint8Array(8);
    head[0] = stream;
    new DataView(head.buffer).setUint32(4, body.length);
    return [...head, ...body];
  };
  test("frames become lines per stream; a line split across frames is joined", () => {
    const bytes = new Uint8Array([...frame(1, "hel"), ...frame(1, "lo\nworld\n"), ...frame(2, "boom\n"), ...frame(1, "tail")]);
    expect(demuxLogLines(bytes)).toEqual([
      { stream: "stdout", line: "hello" },
      { stream: "stdout", line: "world" },
      { stream: "stderr", line: "boom" },
      { stream: "stdout", line: "tail" },
    ]);
  });
  test("unframed text (a TTY container) is read as stdout", () => {
    expect(demuxLogLines(new TextEncoder().encode("plain text\nmore\n"))).toEqual([
      { stream: "stdout", line: "plain text" },
      { stream: "stdout", line: "more" },
    ]);
  });
  test("empty", () => expect(demuxLogLines(new Uint8Array())).toEqual([]));
});
