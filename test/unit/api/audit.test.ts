import { describe, expect, test } from "bun:test";
import { auditEventName, auditExtra, pathParams } from "../../../src/api/audit";

describe("audit log helpers", () => {
  test.each([
    ["POST", "/dags/:dag_id/dagRuns", "trigger_dag_run"],
    ["PATCH", "/dags/:dag_id", "patch_dag"],
    ["PATCH", "/variables", "bulk_variables"],
    ["PUT", "/backfills/:backfill_id/pause", "pause_backfill"],
    ["POST", "/dags/:dag_id/dagRuns/list", null],
    ["PATCH", "/dags/:dag_id/dagRuns/:dag_run_id/taskInstances/:task_id/dry_run", null],
    ["POST", "/leoflow/users", "post_leoflow_users"],
    ["DELETE", "/leoflow/users/:username", "delete_leoflow_users"],
  ])("%s %s is the event %p", (method, route, event) => {
    expect(auditEventName(method, route)).toBe(event);
  });

  test("path parameters come off the request path by the route's names", () => {
    expect(pathParams("/api/v2/dags/:dag_id/dagRuns/:dag_run_id", "/api/v2/dags/etl/dagRuns/manual%3A1")).toEqual({
      dag_id: "etl",
      dag_run_id: "manual:1",
    });
  });

  test("secrets are masked: sensitive names anywhere, connection extra, secret or encrypted variable values", () => {
    expect(auditExtra("/connections", { connection_id: "c", password: "p", extra: '{"a":1}', host: "h" })).toEqual({
      connection_id: "c",
      password: "***",
      extra: "***",
      host: "h",
    });
    expect(auditExtra("/variables", { key: "aws_secret", value: "v" })).toEqual({ key: "aws_secret", value: "***" });
    expect(auditExtra("/variables", { key: "url", value: "v", is_encrypted: true })).toEqual({
      key: "url",
      value: "***",
      is_encrypted: true,
    });
    expect(auditExtra("/variables", { actions: [{ entities: [{ key: "ok", value: "shown" }] }] })).toEqual({
      actions: [{ entities: [{ key: "ok", value: "shown" }] }],
    });
    expect(auditExtra("/dags/:dag_id/dagRuns", { conf: { api_key: "k", n: 1 } })).toEqual({ conf: { api_key: "***", n: 1 } });
  });
});
