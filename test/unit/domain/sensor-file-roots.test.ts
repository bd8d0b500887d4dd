import { describe, expect, test } from "bun:test";
import { admitSensorFileRoots, normalizeSensorPath, sensorFileRootProblem } from "../../../src/domain";
import { parseDagSpec } from "../../../src/domain/schemas";

const roots = ["/srv/dags", "/var/lib/leoflow/staging/"];

describe("file sensor roots", () => {
  test.each([
    ["a file under a root", "/srv/dags/flags/ready", true],
    ["the root itself", "/srv/dags", true],
    ["a glob under a root (trailing slash on the root ignored)", "/var/lib/leoflow/staging/run-*/done", true],
    ["a glob whose first segment is already a pattern, under a root", "/srv/dags/**/*.csv", true],
    ["a sibling that shares the root's prefix", "/srv/dags-old/x", false],
    ["an arbitrary server path", "/etc/passwd", false],
    ["escaping a root with ..", "/srv/dags/../../etc/passwd", false],
    ["escaping through a glob segment", "/srv/dags/*/../../etc/shadow", false],
    ["a glob over the whole file system", "/*/passwd", false],
  ])("%s: %s", (_, path, allowed) => {
    expect(sensorFileRootProblem(path, roots) === null).toBe(allowed);
  });

  test("the refusal names the path, the roots and the fix", () => {
    expect(sensorFileRootProblem("/etc/passwd", roots)).toBe(
      'file sensor path "/etc/passwd" is outside the folders file sensors may read (/srv/dags, /var/lib/leoflow/staging/); move the file under one of them, or add its folder to --sensor-file-roots (LEOFLOW_SENSOR_FILE_ROOTS)',
    );
    expect(sensorFileRootProblem("/srv/dags/x", [])).toContain("may read (none)");
  });

  test("the path read is the one checked: .. and . resolved", () => {
    expect(normalizeSensorPath("/srv/dags/./a/../b/*.csv")).toBe("/srv/dags/b/*.csv");
  });

  test("at load, one issue per file sensor outside the roots, at its field", () => {
    const spec = parseDagSpec({
      dag_id: "d",
      tasks: [
        { task_id: "ok", operator: "sensor", sensor: { kind: "file", path: "/srv/dags/in/x" } },
        { task_id: "peek", operator: "sensor", sensor: { kind: "file", path: "/root/.ssh/id_rsa" } },
        { task_id: "http", operator: "sensor", sensor: { kind: "time_delta", delta: 5 } },
      ],
    });
    const issues = admitSensorFileRoots(spec, roots);
    expect(issues.map((i) => i.path)).toEqual(["tasks[1].sensor.path"]);
    expect(issues[0]!.message).toStartWith('task "peek": file sensor path "/root/.ssh/id_rsa" is outside');
  });
});
