import { describe, expect, test } from "bun:test";
import { ROLES, ROLE_PERMISSIONS, hasPermission, leastRoleWith, parseRole, type Permission } from "../../../src/auth";
import { permissionFor, routeKey } from "../../../src/api/route-permissions";

describe("Airflow's default roles", () => {
  test("each role holds every permission of the ones below it", () => {
    for (let i = 1; i < ROLES.length; i++) for (const p of ROLE_PERMISSIONS[ROLES[i - 1]!]) expect(hasPermission(ROLES[i]!, p)).toBe(true);
  });

  test("Viewer reads DAGs and pools, and nothing of variables, connections, config, audit log or users", () => {
    expect([...ROLE_PERMISSIONS.viewer].sort()).toEqual(["dags:read", "pools:read"]);
  });

  test("User adds DAG and run changes; Op adds variables, connections, pools, XCom and config; Admin adds audit log and users", () => {
    const added = (role: "user" | "op" | "admin", below: "viewer" | "user" | "op") =>
      [...ROLE_PERMISSIONS[role]].filter((p) => !ROLE_PERMISSIONS[below].has(p)).sort();
    expect(added("user", "viewer")).toEqual(["dags:edit", "runs:edit"]);
    expect(added("op", "user")).toEqual([
      "config:read",
      "connections:edit",
      "connections:read",
      "pools:edit",
      "variables:edit",
      "variables:read",
      "webhooks:manage",
      "xcom:edit",
    ]);
    expect(added("admin", "op")).toEqual(["audit_log:read", "users:manage"]);
  });

  test("leastRoleWith names the role to ask for", () => {
    const cases: [Permission, string][] = [
      ["dags:read", "viewer"],
      ["runs:edit", "user"],
      ["variables:read", "op"],
      ["users:manage", "admin"],
    ];
    for (const [p, role] of cases) expect(leastRoleWith(p)).toBe(role as never);
  });

  test("parseRole takes Airflow's names in any case, and nothing else", () => {
    expect(parseRole("Admin")).toBe("admin");
    expect(parseRole(" OP ")).toBe("op");
    expect(parseRole("viewer")).toBe("viewer");
    expect(parseRole("Public")).toBeNull();
    expect(parseRole("")).toBeNull();
  });
});

describe("the route permission table", () => {
  test("parameter names and the /api/v2 prefix do not matter", () => {
    expect(routeKey("get", "/api/v2/dags/:id", "/api/v2")).toBe("GET /dags/:");
    expect(routeKey("GET", "/dags/:dag_id{.+}/tasks")).toBe("GET /dags/:/tasks");
    expect(permissionFor("PATCH", "/api/v2/dags/:whatever", "/api/v2")).toBe("dags:edit");
  });

  test("reads, edits and admin routes map to Airflow's split", () => {
    expect(permissionFor("GET", "/dags/:d/dagRuns")).toBe("dags:read");
    expect(permissionFor("POST", "/dags/:d/dagRuns")).toBe("runs:edit");
    expect(permissionFor("POST", "/dags/:d/dagRuns/list")).toBe("dags:read");
    expect(permissionFor("GET", "/variables")).toBe("variables:read");
    expect(permissionFor("GET", "/pools")).toBe("pools:read");
    expect(permissionFor("GET", "/eventLogs")).toBe("audit_log:read");
    expect(permissionFor("DELETE", "/leoflow/users/:u")).toBe("users:manage");
  });

  test("an unknown route has no entry (the middleware then allows only Admins)", () => {
    expect(permissionFor("GET", "/nothing/here")).toBeUndefined();
    expect(permissionFor("DELETE", "/dags")).toBeUndefined();
  });
});
