/** The Docker executor's pure pieces: quantities, the container spec (security defaults), names. Table-driven. */
import { describe, expect, test } from "bun:test";
import {
  buildContainerSpec,
  containerName,
  formatBytes,
  parseMemoryBytes,
  parseNanoCpus,
  resourceLimits,
  stagingVolumeName,
  type DockerSettings,
  type ExecutorRequest,
} from "../../../src/executors";
import { splitImage } from "../../../src/executors/docker/client";
import type { TaskSpec } from "../../../src/domain";

const settings: DockerSettings = {
  host: "unix:///var/run/docker.sock",
  defaultImage: "debian:bookworm-slim",
  network: "host",
  defaultCpu: "1",
  defaultMemory: "512Mi",
  pullPolicy: "if_not_present",
  user: "65534:65534",
  agentBinary: "/opt/leoflow/leoflow",
  pidsLimit: 1024,
  instance: "abc123",
};

function request(task: Partial<TaskSpec> = {}): ExecutorRequest {
  return {
    taskInstanceId: 42,
    team: "default",
    dagId: "etl",
    runId: "manual__2026-01-01T00:00:00+00:00",
    taskId: "extract",
    tryNumber: 2,
    task: { task_id: "extract", operator: "bash", bash_command: "echo hi", upstream: [], ...task } as TaskSpec,
    dagFile: "/dags/etl.json",
    controlPlaneUrl: "http://127.0.0.1:8080",
    agentToken: "tok",
  };
}

describe("parseMemoryBytes", () => {
  test.each([
    ["512Mi", 512 * 2 ** 20],
    ["1Gi", 2 ** 30],
    ["1.5Gi", 1.5 * 2 ** 30],
    ["64Ki", 64 * 1024],
    ["1G", 1e9],
    ["500M", 5e8],
    ["256m", 256 * 2 ** 20],
    ["2g", 2 * 2 ** 30],
    ["1048576", 1048576],
    [1048576, 1048576],
  ] as [string | number, number][])("%p is %p bytes", (q, want) => expect(parseMemoryBytes(q)).toBe(want));
  test.each(["", "lots", "-1Mi", "0", "12Qi", "1 Mi Mi"])("%p is not a quantity", (q) => expect(parseMemoryBytes(q)).toBeNull());
});

describe("parseNanoCpus", () => {
  test.each([
    ["1", 1e9],
    ["500m", 5e8],
    ["1.5", 1.5e9],
    [2, 2e9],
    ["250m", 2.5e8],
  ] as [string | number, number][])("%p is %p nano-CPUs", (q, want) => expect(parseNanoCpus(q)).toBe(want));
  test.each(["", "0", "fast", "1 core", "-2"])("%p is not a quantity", (q) => expect(parseNanoCpus(q)).toBeNull());
});

test("formatBytes", () => {
  expect(formatBytes(8 * 2 ** 20)).toBe("8 MiB");
  expect(formatBytes(1.5 * 2 ** 30)).toBe("1.5 GiB");
  expect(formatBytes(100)).toBe("100 B");
});

describe("resourceLimits: limits, then the plain field, then requests, then the platform default", () => {
  const cases: [string, TaskSpec["resources"], { memory: number; nanoCpus: number; memoryReservation?: number }][] = [
    ["nothing set: platform defaults", undefined, { memory: 512 * 2 ** 20, nanoCpus: 1e9 }],
    ["plain fields", { cpu: "250m", memory: "128Mi" }, { memory: 128 * 2 ** 20, nanoCpus: 2.5e8 }],
    ["limits win over plain fields", { memory: "128Mi", limits: { memory: "1Gi", cpu: 2 } }, { memory: 2 ** 30, nanoCpus: 2e9 }],
    [
      "requests alone become limits and the reservation",
      { requests: { memory: "64Mi" } },
      { memory: 64 * 2 ** 20, nanoCpus: 1e9, memoryReservation: 64 * 2 ** 20 },
    ],
    [
      "request below the limit is a reservation",
      { requests: { memory: "64Mi" }, limits: { memory: "256Mi" } },
      { memory: 256 * 2 ** 20, nanoCpus: 1e9, memoryReservation: 64 * 2 ** 20 },
    ],
  ];
  for (const [name, resources, want] of cases)
    test(name, () => expect(resourceLimits({ task_id: "t", resources }, settings)).toEqual(want));

  test.each([
    [{ memory: "lots" }, 'memory "lots" is not a quantity'],
    [{ cpu: "fast" }, 'cpu "fast" is not a quantity'],
    [{ memory: "1Mi" }, "below the 6Mi engines accept"],
  ] as [TaskSpec["resources"], string][])("%p is refused: %s", (resources, message) =>
    expect(() => resourceLimits({ task_id: "t", resources }, settings)).toThrow(message),
  );
});

describe("buildContainerSpec", () => {
  test("safe defaults: agent entrypoint, read-only binary, no privileges, limits always set", () => {
    const spec = buildContainerSpec(request(), settings);
    expect(spec.image).toBe("debian:bookworm-slim");
    expect(spec.pullPolicy).toBe("if_not_present");
    expect(spec.name).toBe("leoflow-abc123-etl-extract-42-2");
    const b = spec.body;
    expect(b.Entrypoint).toEqual(["/leoflow/leoflow"]);
    expect(b.Cmd).toEqual(["agent"]);
    expect(b.User).toBe("65534:65534");
    expect(b.HostConfig).toMatchObject({
      Binds: ["/opt/leoflow/leoflow:/leoflow/leoflow:ro"],
      Mounts: [],
      NetworkMode: "host",
      Privileged: false,
      CapDrop: ["ALL"],
      SecurityOpt: ["no-new-privileges"],
      ReadonlyRootfs: true,
      Memory: 512 * 2 ** 20,
      MemorySwap: 512 * 2 ** 20,
      NanoCpus: 1e9,
      PidsLimit: 1024,
    });
    expect(Object.keys(b.HostConfig.Tmpfs)).toEqual(["/tmp"]);
    expect(b.Labels).toEqual({
      "io.leoflow.managed": "true",
      "io.leoflow.instance": "abc123",
      "io.leoflow.dag_id": "etl",
      "io.leoflow.run_id": "manual__2026-01-01T00:00:00+00:00",
      "io.leoflow.task_id": "extract",
      "io.leoflow.try_number": "2",
      "io.leoflow.ti_id": "42",
    });
  });

  test("environment: task env first, then what the agent needs (a task cannot replace its token or server)", () => {
    const env = buildContainerSpec(request({ env: { FOO: "bar", LEOFLOW_AGENT_TOKEN: "forged", LEOFLOW_SERVER: "http://evil" } }), settings)
      .body.Env;
    expect(env).toContain("FOO=bar");
    expect(env).toContain("LEOFLOW_AGENT_TOKEN=tok");
    expect(env).toContain("LEOFLOW_SERVER=http://127.0.0.1:8080");
    expect(env).not.toContain("LEOFLOW_AGENT_TOKEN=forged");
    expect(env).not.toContain("LEOFLOW_SERVER=http://evil");
  });

  test("the task's image and pull policy win over the platform's", () => {
    const spec = buildContainerSpec(request({ image: "python:3.12", image_pull_policy: "always" }), settings);
    expect([spec.image, spec.body.Image, spec.pullPolicy]).toEqual(["python:3.12", "python:3.12", "always"]);
  });

  test("no image anywhere is a clear error", () => {
    expect(() => buildContainerSpec(request(), { ...settings, defaultImage: "" })).toThrow("--docker-default-image");
  });

  test("an empty user keeps the image's USER", () => {
    expect(buildContainerSpec(request(), { ...settings, user: "" }).body.User).toBeUndefined();
  });

  test("staging: the run's volume is the only mount besides the binary", () => {
    const spec = buildContainerSpec(request(), settings, { stagingVolume: "leoflow-staging-etl-x" });
    expect(spec.body.HostConfig.Mounts).toEqual([{ Type: "volume", Source: "leoflow-staging-etl-x", Target: "/staging", ReadOnly: false }]);
    expect(spec.body.HostConfig.Binds).toHaveLength(1);
    expect(spec.body.Env).toContain("LEOFLOW_STAGING_DIR=/staging");
  });
});

describe("names", () => {
  test("container names are engine-safe, bounded and unique per try", () => {
    const name = containerName(
      { dagId: "my dag/ü".repeat(20), taskId: "t:1".repeat(30), taskInstanceId: 1234567890, tryNumber: 3 },
      "0123456789ab",
    );
    expect(name).toMatch(/^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/);
    expect(name.length).toBeLessThan(128);
    expect(name.endsWith("-1234567890-3")).toBe(true);
  });
  test("container names carry the server's instance: two installs (or a reset store) never share one", () => {
    const req = { dagId: "etl", taskId: "extract", taskInstanceId: 1, tryNumber: 1 };
    expect(containerName(req, "aaaa11112222")).toBe("leoflow-aaaa11112222-etl-extract-1-1");
    expect(containerName(req, "aaaa11112222")).not.toBe(containerName(req, "bbbb33334444"));
    expect(buildContainerSpec(request(), settings).name).toBe("leoflow-abc123-etl-extract-42-2");
  });
  test("a container gets the operator's passthrough variables and nothing else of the server", () => {
    const env = buildContainerSpec(request({ env: { GREETING: "hi" } }), { ...settings, passthroughEnv: { AWS_REGION: "eu-west-1" } }).body
      .Env;
    expect(env).toContain("AWS_REGION=eu-west-1");
    expect(env).toContain("LEOFLOW_TASK_ENV_PASSTHROUGH=AWS_REGION");
    expect(env).toContain("GREETING=hi");
    expect(env.filter((e) => e.startsWith("PATH="))).toEqual([]);
    expect(
      buildContainerSpec(request(), settings)
        .body.Env.map((e) => e.split("=")[0])
        .sort(),
    ).toEqual(["HOME", "LEOFLOW_AGENT_TOKEN", "LEOFLOW_SERVER", "TMPDIR"]);
  });
  test("staging volume names are stable for a run and differ between runs", () => {
    expect(stagingVolumeName("default", "etl", "r1")).toBe(stagingVolumeName("default", "etl", "r1"));
    expect(stagingVolumeName("default", "etl", "r1")).not.toBe(stagingVolumeName("default", "etl", "r2"));
    expect(stagingVolumeName("default", "etl", "r1")).toMatch(/^leoflow-staging-etl-[0-9a-f]{16}$/);
  });
  test("two teams' runs with the same DAG id and run id get two staging volumes; the default team keeps its old name", () => {
    expect(stagingVolumeName("data-eng", "etl", "r1")).not.toBe(stagingVolumeName("default", "etl", "r1"));
    expect(stagingVolumeName("data-eng", "etl", "r1")).toMatch(/^leoflow-staging-etl-[0-9a-f]{16}$/);
    // The name a volume of the default team had before teams (sha256 of "etl\0r1"), so running installs keep their data.
    expect(stagingVolumeName("default", "etl", "r1")).toBe("leoflow-staging-etl-9005a626632ad919");
  });
  test.each([
    ["debian:bookworm-slim", "debian", "bookworm-slim"],
    ["localhost:5000/team/app", "localhost:5000/team/app", "latest"],
    ["localhost:5000/team/app:1.2", "localhost:5000/team/app", "1.2"],
    ["alpine", "alpine", "latest"],
  ])("splitImage(%p)", (image, repo, tag) => expect(splitImage(image)).toEqual({ repo, tag }));
});
