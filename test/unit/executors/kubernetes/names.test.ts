/** Pod, Secret and PVC names and label values: valid for Kubernetes, deterministic, distinct. Table-driven. */
import { describe, expect, test } from "bun:test";
import { dnsName, isDnsLabel, isLabelValue, labelValue, podName, stagingPvcName } from "../../../../src/executors/kubernetes";

const long = "a".repeat(80);

describe("podName", () => {
  test.each([
    ["short ids are kept readable", { dagId: "etl", taskId: "load" }, "lf-3f9a0c1d2e4b-etl-load-7-2"],
    [
      "upper case and '_' become DNS-safe, with a digest",
      { dagId: "My_DAG", taskId: "load" },
      /^lf-3f9a0c1d2e4b-my-dag-load-[0-9a-f]{8}-7-2$/,
    ],
    ["long ids are cut, the digest and the try kept", { dagId: long, taskId: long }, /^lf-3f9a0c1d2e4b-a+-[0-9a-f]{8}-7-2$/],
  ])("%s", (_, ids, expected) => {
    const name = podName({ ...ids, taskInstanceId: 7, tryNumber: 2 }, "3f9a0c1d2e4b");
    expect(isDnsLabel(name)).toBe(true);
    if (typeof expected === "string") expect(name).toBe(expected);
    else expect(name).toMatch(expected);
  });

  test("deterministic, and distinct for ids that sanitise alike", () => {
    const a = podName({ dagId: "A_b", taskId: "t", taskInstanceId: 1, tryNumber: 1 }, "i");
    expect(podName({ dagId: "A_b", taskId: "t", taskInstanceId: 1, tryNumber: 1 }, "i")).toBe(a);
    expect(podName({ dagId: "a.b", taskId: "t", taskInstanceId: 1, tryNumber: 1 }, "i")).not.toBe(a);
    const cutA = podName({ dagId: long + "x", taskId: long, taskInstanceId: 1, tryNumber: 1 }, "i");
    const cutB = podName({ dagId: long + "y", taskId: long, taskInstanceId: 1, tryNumber: 1 }, "i");
    expect(cutA).not.toBe(cutB);
    expect(cutA.length).toBeLessThanOrEqual(63);
  });
});

describe("stagingPvcName", () => {
  test.each([
    ["etl", "manual__2026-01-01T00:00:00+00:00"],
    [long, "scheduled__2026-01-01T00:00:00+00:00"],
    ["UPPER.dag", "r"],
  ])("%s / %s is a DNS label", (dag, run) => {
    const name = stagingPvcName("data-eng", dag, run, "3f9a0c1d2e4b");
    expect(isDnsLabel(name)).toBe(true);
    expect(stagingPvcName("data-eng", dag, run, "3f9a0c1d2e4b")).toBe(name);
  });

  test("one per run, per team and per instance", () => {
    const a = stagingPvcName("default", "etl", "r1", "i1");
    expect(stagingPvcName("default", "etl", "r2", "i1")).not.toBe(a);
    expect(stagingPvcName("default", "etl", "r1", "i2")).not.toBe(a);
    // Two teams' runs may share a DAG id and run id; they never share a PVC.
    expect(stagingPvcName("data-eng", "etl", "r1", "i1")).not.toBe(a);
  });

  test("the default team's PVCs keep the names they had before teams (upgrades find their data)", () => {
    expect(stagingPvcName("default", "etl", "manual__2026-01-01T00:00:00+00:00", "3f9a0c1d2e4b")).toBe(
      "lf-stg-3f9a0c1d2e4b-etl-95bf987eb205",
    );
  });
});

describe("labelValue", () => {
  test.each([
    ["etl", "etl"],
    ["a.b_c-d", "a.b_c-d"],
    ["manual__2026-01-01T00:00:00+00:00", /^manual__2026-01-01T00_00_00_00_00-[0-9a-f]{8}$/],
    ["_leading", /^leading-[0-9a-f]{8}$/],
    [long, /^a{54}-[0-9a-f]{8}$/],
    ["::", /^[0-9a-f]{8}$/],
  ])("%s", (raw, expected) => {
    const v = labelValue(raw);
    expect(isLabelValue(v)).toBe(true);
    if (typeof expected === "string") expect(v).toBe(expected);
    else expect(v).toMatch(expected);
  });

  test("dnsName never exceeds 63 characters", () => {
    for (let n = 1; n < 200; n += 7) expect(dnsName(["x".repeat(n), "Y".repeat(n)], [123456, 99]).length).toBeLessThanOrEqual(63);
  });
});
