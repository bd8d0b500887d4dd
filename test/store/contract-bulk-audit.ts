/**
 * Store contract for issue 15: Airflow's bulk PATCH (variables, connections, pools; each request one
 * transaction, each action all or nothing under `fail`), the audit log behind GET /eventLogs, and the import
 * error lookups (get by id, filename_pattern).
 */
import { describe, expect, test } from "bun:test";
import type { AuditLogEntry, ConnectionRecord } from "../../src/domain";
import type { Store } from "../../src/store";

const T0 = new Date("2026-01-01T00:00:00.000Z");
const at = (s: number) => new Date(T0.getTime() + s * 1000);
const v = (key: string, value = "v") => ({ key, value, description: null, is_encrypted: false });
const conn = (id: string): ConnectionRecord => ({
  connection_id: id,
  conn_type: "http",
  description: null,
  host: "h",
  login: null,
  password: "pw",
  schema: null,
  port: null,
  extra: null,
  is_encrypted: false,
  is_extra_encrypted: false,
});
const entry = (over: Partial<AuditLogEntry>): AuditLogEntry => ({
  team: "default",
  when: T0,
  event: "patch_dag",
  owner: "admin",
  dag_id: null,
  run_id: null,
  task_id: null,
  map_index: null,
  try_number: null,
  logical_date: null,
  extra: null,
  ...over,
});

export function bulkAuditContract(getStore: () => Store): void {
  describe("bulk PATCH (issue 15)", () => {
    test("variables: create / update / delete with Airflow's existence rules; a failing action writes nothing", async () => {
      const store = getStore();
      await store.putVariable("default", v("a", "1"), T0);
      const results = await store.bulkVariables(
        "default",
        [
          { action: "create", entities: [v("b"), v("a", "x")], action_on_existence: "fail" },
          { action: "create", entities: [v("c"), v("a", "skip")], action_on_existence: "skip" },
          { action: "update", entities: [v("a", "2"), v("zz")], action_on_non_existence: "skip" },
          { action: "delete", entities: ["c", "nope"], action_on_non_existence: "fail" },
          { action: "delete", entities: ["c"], action_on_non_existence: "fail" },
        ],
        at(1),
      );
      expect(results).toEqual([
        { success: [], errors: [{ error: "The variables with these keys: {'a'} already exist.", status_code: 409 }] },
        { success: ["c"], errors: [] },
        { success: ["a"], errors: [] },
        { success: [], errors: [{ error: "The variables with these keys: {'nope'} were not found.", status_code: 404 }] },
        { success: ["c"], errors: [] },
      ]);
      expect((await store.listVariables("default")).items.map((x) => [x.key, x.value])).toEqual([["a", "2"]]);
    });

    test("connections: overwrite replaces the whole row; a duplicate key in one action is refused", async () => {
      const store = getStore();
      await store.putConnection("default", conn("x"), T0);
      const results = await store.bulkConnections(
        "default",
        [
          { action: "create", entities: [{ ...conn("x"), host: "new", password: null }], action_on_existence: "overwrite" },
          { action: "create", entities: [conn("y"), conn("y")], action_on_existence: "fail" },
        ],
        at(1),
      );
      expect(results[0]).toEqual({ success: ["x"], errors: [] });
      expect(results[1]!.errors[0]!.status_code).toBe(400);
      expect(await store.getConnection("default", "x")).toMatchObject({ host: "new", password: null });
      expect(await store.getConnection("default", "y")).toBeNull();
    });

    test("pools: an update keeps the pool's place; default_pool is never deleted", async () => {
      const store = getStore();
      await store.createPool("default", { name: "p1", slots: 1, description: null, include_deferred: false });
      await store.createPool("default", { name: "p2", slots: 1, description: null, include_deferred: false });
      const results = await store.bulkPools("default", [
        {
          action: "update",
          entities: [{ name: "p1", slots: 5, description: "d", include_deferred: true }],
          action_on_non_existence: "fail",
        },
        { action: "create", entities: [{ name: "p3", slots: 3, description: null, include_deferred: false }], action_on_existence: "fail" },
        { action: "delete", entities: ["default_pool", "p2"], action_on_non_existence: "fail" },
      ]);
      expect(results.map((r) => r.success)).toEqual([["p1"], ["p3"], []]);
      expect(results[2]!.errors).toEqual([{ error: "Default Pool can't be deleted", status_code: 400 }]);
      expect((await store.listPools("default")).items.map((p) => [p.name, p.slots, p.description, p.include_deferred])).toEqual([
        ["default_pool", 128, "Default pool", false],
        ["p1", 5, "d", true],
        ["p2", 1, null, false],
        ["p3", 3, null, false],
      ]);
    });
  });

  describe("audit log (issue 15)", () => {
    test("append, get by id, and every filter of GET /eventLogs", async () => {
      const store = getStore();
      const id1 = await store.appendAuditLog(
        entry({ dag_id: "etl", run_id: "r1", task_id: "t", map_index: -1, try_number: 2, logical_date: at(-60), extra: '{"a":1}' }),
      );
      const id2 = await store.appendAuditLog(entry({ when: at(10), event: "post_pool", owner: "op1" }));
      const id3 = await store.appendAuditLog(entry({ when: at(20), event: "trigger_dag_run", dag_id: "Report", run_id: "manual__x" }));
      expect(id1).toBeLessThan(id2);
      expect(await store.getAuditLog("default", id1)).toEqual({
        id: id1,
        ...entry({ dag_id: "etl", run_id: "r1", task_id: "t", map_index: -1, try_number: 2, logical_date: at(-60), extra: '{"a":1}' }),
      });
      expect(await store.getAuditLog("default", id3 + 100)).toBeNull();
      const ids = async (f: Parameters<Store["listAuditLog"]>[1]) => (await store.listAuditLog("default", f)).items.map((e) => e.id);
      expect(await ids({})).toEqual([id1, id2, id3]);
      expect(await ids({ dag_id: "etl", task_id: "t", run_id: "r1", map_index: -1, try_number: 2 })).toEqual([id1]);
      expect(await ids({ owner: "op1" })).toEqual([id2]);
      expect(await ids({ event: "post_pool" })).toEqual([id2]);
      expect(await ids({ included_events: ["post_pool", "trigger_dag_run"] })).toEqual([id2, id3]);
      expect(await ids({ excluded_events: ["patch_dag"] })).toEqual([id2, id3]);
      expect(await ids({ dag_id_pattern: "%report%" })).toEqual([id3]); // case-insensitive
      expect(await ids({ run_id_pattern: "manual%", event_pattern: "%dag%", owner_pattern: "ADM%" })).toEqual([id3]);
      expect(await ids({ after: at(10) })).toEqual([id2, id3]);
      expect(await ids({ before: at(10) })).toEqual([id1]);
      expect(await ids({ order_by: "-when", limit: 2 })).toEqual([id3, id2]);
      expect(await ids({ order_by: "event", offset: 1 })).toEqual([id2, id3]);
      expect((await store.listAuditLog("default", { limit: 1 })).total).toBe(3);
    });
  });

  describe("import errors (issue 15)", () => {
    test("get by id; filename_pattern is a case-insensitive LIKE", async () => {
      const store = getStore();
      await store.replaceImportErrors("default", "/dags/Broken.json", ["bad"], T0);
      const [e] = (await store.listImportErrors("default", { filename_pattern: "%broken%" })).items;
      expect(e).toMatchObject({ filename: "/dags/Broken.json", stack_trace: "bad" });
      expect(await store.getImportError("default", e!.id)).toEqual(e!);
      expect(await store.getImportError("default", e!.id + 1)).toBeNull();
      expect((await store.listImportErrors("default", { filename_pattern: "%nope%" })).total).toBe(0);
    });
  });
}
