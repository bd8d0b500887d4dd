/**
 * Store contract for teams (issue 21), configuration side: variables, connections, pools, bulk PATCH, the
 * audit log and the secrets rotation reads. Two teams hold the same variable key, connection id and pool
 * name; each team sees only its own through every method, and a write in one never touches the other.
 */
import { describe, expect, test } from "bun:test";
import {
  ConflictError,
  DEFAULT_TEAM,
  type AuditLogEntry,
  type ConnectionRecord,
  type TaskState,
  type VariableRecord,
} from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import { SecretsCipher, SecretUnreadableError, rotateSecrets, sealedKeyId, withSecrets, type Store } from "../../src/store";

const T0 = new Date("2026-01-01T00:00:00.000Z");
const A = DEFAULT_TEAM;
const B = "team-b";

const variable = (key: string, value: string): VariableRecord => ({ key, value, description: null, is_encrypted: false });
const conn = (id: string, host: string, password: string | null = null): ConnectionRecord => ({
  connection_id: id,
  conn_type: "http",
  description: null,
  host,
  login: null,
  password,
  schema: null,
  port: null,
  extra: null,
  is_encrypted: false,
  is_extra_encrypted: false,
});
const auditEntry = (team: string, event: string): AuditLogEntry => ({
  team,
  when: T0,
  event,
  owner: "admin",
  dag_id: "etl",
  run_id: null,
  task_id: null,
  map_index: null,
  try_number: null,
  logical_date: null,
  extra: null,
});

async function withTeamB(store: Store): Promise<Store> {
  await store.createTeam(
    { name: B, description: null, max_running_tasks: null, max_pool_slots: null, max_inline_requests: null, executor_policy: {} },
    T0,
  );
  return store;
}

/** A DAG "etl" in `team` with one run whose task instance uses `pool` for `slots` slots, walked to `to`. */
async function taskUsingPool(store: Store, team: string, pool: string, slots: number, to: TaskState) {
  const spec = parseDagSpec({ dag_id: "etl", tasks: [{ task_id: "t", operator: "bash", bash_command: "true", pool, pool_slots: slots }] });
  const dag = await store.upsertDag(team, { spec, fileloc: `/dags/${team}/etl.json`, pausedOnCreate: false, now: T0 });
  await store.createDagRun({
    team,
    dag_id: "etl",
    run_id: "r1",
    run_type: "manual",
    logical_date: null,
    data_interval_start: null,
    data_interval_end: null,
    conf: {},
    version_id: dag.version_id,
    queued_at: T0,
    tasks: [{ task_id: "t", operator: "bash", max_tries: 0, pool, pool_slots: slots, priority_weight: 1 }],
  });
  const ti = await store.getTaskInstance(team, "etl", "r1", "t");
  if (!ti) throw new Error(`task instance etl/r1/t of team ${team} was not created`);
  const path: TaskState[] = ["none", "scheduled", "queued", "running"];
  for (let i = 1; i <= path.indexOf(to); i++)
    expect(await store.applyTransitions([{ id: ti.id, from: [path[i - 1] as TaskState], to: path[i] as TaskState }], T0)).toEqual([true]);
}

export function teamsConfigContract(getStore: () => Store): void {
  describe("teams: variables, connections, pools, bulk, audit log, secrets (issue 21)", () => {
    test("variables: the same key in two teams is two variables; each team reads, lists and deletes only its own", async () => {
      const store = await withTeamB(getStore());
      await store.putVariable(A, variable("region", "eu"), T0);
      await store.putVariable(B, variable("region", "us"), T0);
      await store.putVariable(B, variable("only_b", "x"), T0);
      expect(await store.getVariable(A, "region")).toMatchObject({ value: "eu" });
      expect(await store.getVariable(B, "region")).toMatchObject({ value: "us" });
      expect(await store.getVariable(A, "only_b")).toBeNull();
      expect(await store.listVariables(A)).toEqual({ items: [{ ...variable("region", "eu") }], total: 1 });
      expect((await store.listVariables(B)).items.map((v) => [v.key, v.value])).toEqual([
        ["only_b", "x"],
        ["region", "us"],
      ]);
      expect((await store.listVariables(A, { key_pattern: "%only%" })).total).toBe(0);
      // onlyIfAbsent looks at the team's own keys: A's "region" does not block B, B's does.
      await expect(store.putVariable(B, variable("region", "again"), T0, { onlyIfAbsent: true })).rejects.toBeInstanceOf(ConflictError);
      expect(await store.deleteVariable(A, "only_b")).toBe(false);
      expect(await store.deleteVariable(A, "region")).toBe(true);
      expect(await store.getVariable(B, "region")).toMatchObject({ value: "us" });
      expect(await store.getVariable(B, "only_b")).toMatchObject({ value: "x" });
    });

    test("connections: the same id in two teams is two connections; an upsert in one leaves the other", async () => {
      const store = await withTeamB(getStore());
      await store.putConnection(A, conn("api", "a.example.com", "pa"), T0);
      await store.putConnection(B, conn("api", "b.example.com", "pb"), T0, { onlyIfAbsent: true });
      await store.putConnection(B, conn("api", "b2.example.com", "pb2"), T0);
      expect(await store.getConnection(A, "api")).toEqual(conn("api", "a.example.com", "pa"));
      expect(await store.getConnection(B, "api")).toEqual(conn("api", "b2.example.com", "pb2"));
      expect((await store.listConnections(A)).items.map((c) => c.host)).toEqual(["a.example.com"]);
      expect((await store.listConnections(B, { id_pattern: "%AP%" })).items.map((c) => c.host)).toEqual(["b2.example.com"]);
      expect(await store.deleteConnection(B, "api")).toBe(true);
      expect(await store.getConnection(B, "api")).toBeNull();
      expect(await store.getConnection(A, "api")).toEqual(conn("api", "a.example.com", "pa"));
      expect(await store.deleteConnection(B, "api")).toBe(false);
    });

    test("pools: each team has its own default_pool and its own pool by a shared name; usage counts only the team's tasks", async () => {
      const store = await withTeamB(getStore());
      const gpu = { name: "gpu", description: null, include_deferred: false };
      await store.createPool(A, { ...gpu, slots: 2 });
      await store.createPool(B, { ...gpu, slots: 8 });
      await expect(store.createPool(B, { ...gpu, slots: 1 })).rejects.toThrow("The Pool with name: `gpu` already exists");
      expect((await store.listPools(A)).items.map((p) => [p.team, p.name, p.slots])).toEqual([
        [A, "default_pool", 128],
        [A, "gpu", 2],
      ]);
      expect((await store.listPools(B)).items.map((p) => [p.team, p.name, p.slots])).toEqual([
        [B, "default_pool", 128],
        [B, "gpu", 8],
      ]);
      expect((await store.listPools(B, { name_pattern: "%gp%" })).total).toBe(1);
      expect(await store.updatePool(A, "gpu", { slots: 3 })).toMatchObject({ team: A, slots: 3 });
      expect(await store.getPool(B, "gpu")).toMatchObject({ team: B, slots: 8 });

      // B's running task in "gpu" holds B's pool, not A's, in every read of usage.
      await taskUsingPool(store, B, "gpu", 5, "running");
      expect(await store.getPool(B, "gpu")).toMatchObject({ running_slots: 5 });
      expect(await store.getPool(A, "gpu")).toMatchObject({ running_slots: 0, queued_slots: 0, scheduled_slots: 0 });
      const usage = (await store.listPoolUsage()).map((p) => [p.team, p.name, p.running_slots]);
      expect(usage).toContainEqual([B, "gpu", 5]);
      expect(usage).toContainEqual([A, "gpu", 0]);

      expect(await store.deletePool(A, "gpu")).toBe(true);
      expect(await store.getPool(A, "gpu")).toBeNull();
      expect(await store.getPool(B, "gpu")).toMatchObject({ slots: 8 });
      expect(await store.updatePool(A, "gpu", { slots: 1 })).toBeNull();
    });

    test("bulk PATCH in one team sees and writes only that team's rows", async () => {
      const store = await withTeamB(getStore());
      await store.putVariable(A, variable("shared", "a"), T0);
      await store.putConnection(A, conn("shared", "a.example.com"), T0);
      await store.createPool(A, { name: "shared", slots: 1, description: null, include_deferred: false });

      // In B, "shared" does not exist: create with `fail` succeeds, delete with `fail` is a 404.
      expect(
        await store.bulkVariables(
          B,
          [
            { action: "create", entities: [variable("shared", "b")], action_on_existence: "fail" },
            { action: "delete", entities: ["nope"], action_on_non_existence: "fail" },
          ],
          T0,
        ),
      ).toEqual([
        { success: ["shared"], errors: [] },
        { success: [], errors: [{ error: "The variables with these keys: {'nope'} were not found.", status_code: 404 }] },
      ]);
      expect(
        await store.bulkConnections(
          B,
          [{ action: "create", entities: [conn("shared", "b.example.com")], action_on_existence: "fail" }],
          T0,
        ),
      ).toEqual([{ success: ["shared"], errors: [] }]);
      expect(
        await store.bulkPools(B, [
          {
            action: "create",
            entities: [{ name: "shared", slots: 9, description: null, include_deferred: false }],
            action_on_existence: "fail",
          },
        ]),
      ).toEqual([{ success: ["shared"], errors: [] }]);

      // Deleting in B removes B's rows only.
      await store.bulkVariables(B, [{ action: "delete", entities: ["shared"], action_on_non_existence: "fail" }], T0);
      await store.bulkConnections(B, [{ action: "delete", entities: ["shared"], action_on_non_existence: "fail" }], T0);
      await store.bulkPools(B, [{ action: "delete", entities: ["shared"], action_on_non_existence: "fail" }]);
      expect(await store.getVariable(B, "shared")).toBeNull();
      expect(await store.getConnection(B, "shared")).toBeNull();
      expect(await store.getPool(B, "shared")).toBeNull();
      expect(await store.getVariable(A, "shared")).toMatchObject({ value: "a" });
      expect(await store.getConnection(A, "shared")).toMatchObject({ host: "a.example.com" });
      expect(await store.getPool(A, "shared")).toMatchObject({ slots: 1 });

      // An update in A of a key only B has is "not found" in A.
      await store.putVariable(B, variable("b_only", "b"), T0);
      expect(
        await store.bulkVariables(A, [{ action: "update", entities: [variable("b_only", "a")], action_on_non_existence: "fail" }], T0),
      ).toEqual([{ success: [], errors: [{ error: "The variables with these keys: {'b_only'} were not found.", status_code: 404 }] }]);
      expect(await store.getVariable(B, "b_only")).toMatchObject({ value: "b" });
    });

    test("audit log: each team lists and gets only its own entries", async () => {
      const store = await withTeamB(getStore());
      const a1 = await store.appendAuditLog(auditEntry(A, "patch_dag"));
      const b1 = await store.appendAuditLog(auditEntry(B, "patch_dag"));
      const b2 = await store.appendAuditLog(auditEntry(B, "post_pool"));
      expect(await store.getAuditLog(A, a1)).toMatchObject({ id: a1, team: A });
      expect(await store.getAuditLog(A, b1)).toBeNull();
      expect(await store.getAuditLog(B, b1)).toMatchObject({ id: b1, team: B });
      expect(await store.listAuditLog(A)).toMatchObject({ items: [{ id: a1 }], total: 1 });
      expect((await store.listAuditLog(B, { dag_id: "etl" })).items.map((e) => e.id)).toEqual([b1, b2]);
      expect((await store.listAuditLog(A, { event: "post_pool" })).total).toBe(0);
    });

    test("secrets: rotation reads every team and rewrites each row in its own team; a sealed value does not open in another team", async () => {
      const raw = await withTeamB(getStore());
      const k1 = new SecretsCipher(Buffer.alloc(32, 1));
      const k2 = new SecretsCipher(Buffer.alloc(32, 2));
      const sealed = withSecrets(raw, k1);
      await sealed.putVariable(A, variable("db_password", "pw-a"), T0);
      await sealed.putVariable(B, variable("db_password", "pw-b"), T0);
      await sealed.putConnection(B, conn("api", "b.example.com", "conn-b"), T0);

      expect((await raw.listAllVariables({ limit: 10, offset: 0 })).map((v) => [v.team, v.key])).toEqual([
        [A, "db_password"],
        [B, "db_password"],
      ]);
      expect((await raw.listAllVariables({ limit: 10, offset: 1 })).map((v) => v.team)).toEqual([B]);
      expect((await raw.listAllConnections({ limit: 10, offset: 0 })).map((c) => [c.team, c.connection_id])).toEqual([[B, "api"]]);

      // A rewrite names its team: B's row with A's stored text is stale, and nothing changes.
      const storedA = await raw.getVariable(A, "db_password");
      if (!storedA) throw new Error("team A's variable was not stored");
      await expect(raw.rewriteSecrets([{ team: B, variable: "db_password", from: storedA.value, to: "x" }])).rejects.toBeInstanceOf(
        ConflictError,
      );

      // The envelope is bound to its team: A's sealed value copied into B's row does not open there.
      await raw.putVariable(B, storedA, T0);
      await expect(sealed.getVariable(B, "db_password")).rejects.toBeInstanceOf(SecretUnreadableError);
      await sealed.putVariable(B, variable("db_password", "pw-b"), T0);

      expect(await rotateSecrets(raw, { old: k1, next: k2 })).toEqual({
        variables: 2,
        connections: 1,
        webhooks: 0,
        already: 0,
        sealed_plaintext: 0,
      });
      const after = withSecrets(raw, k2);
      expect(await after.getVariable(A, "db_password")).toMatchObject({ value: "pw-a" });
      expect(await after.getVariable(B, "db_password")).toMatchObject({ value: "pw-b" });
      expect(await after.getConnection(B, "api")).toMatchObject({ password: "conn-b" });
      expect(sealedKeyId((await raw.getVariable(B, "db_password"))?.value ?? "")).toBe(k2.keyId);
    });
  });
}
