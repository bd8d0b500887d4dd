import { describe, expect, test } from "bun:test";
import { forEachApiStore } from "./harness";

forEachApiStore((makeHarness) => {
  const DEFAULT_POOL = {
    name: "default_pool",
    slots: 128,
    description: "Default pool",
    include_deferred: false,
    occupied_slots: 0,
    running_slots: 0,
    queued_slots: 0,
    scheduled_slots: 0,
    open_slots: 128,
    deferred_slots: 0,
    team_name: null,
  };

  describe("pools API", () => {
    test("default_pool exists with 128 slots", async () => {
      const h = await makeHarness();
      expect(await h.json("GET", "/api/v2/pools")).toEqual({ status: 200, body: { pools: [DEFAULT_POOL], total_entries: 1 } });
      expect((await h.json("GET", "/api/v2/pools/default_pool")).body).toEqual(DEFAULT_POOL);
    });

    test("create, read, patch and delete a pool; the scheduler is woken when slots change", async () => {
      const h = await makeHarness();
      const created = await h.json("POST", "/api/v2/pools", { body: { name: "gpu", slots: 2, description: "two cards" } });
      expect(created).toEqual({
        status: 201,
        body: { ...DEFAULT_POOL, name: "gpu", slots: 2, description: "two cards", open_slots: 2 },
      });
      const patched = await h.json("PATCH", "/api/v2/pools/gpu", { body: { slots: 4 } });
      expect(patched.body).toMatchObject({ name: "gpu", slots: 4, description: "two cards", open_slots: 4 });
      const masked = await h.json("PATCH", "/api/v2/pools/gpu?update_mask=description", {
        body: { pool: "gpu", slots: 9, description: null },
      });
      expect(masked.body).toMatchObject({ slots: 4, description: null });
      expect(h.wakes).toEqual([undefined, undefined, undefined]);
      expect((await h.call("DELETE", "/api/v2/pools/gpu")).status).toBe(204);
      expect(await h.json("GET", "/api/v2/pools/gpu")).toEqual({
        status: 404,
        body: { detail: "The Pool with name: `gpu` was not found" },
      });
    });

    test("usage: running, queued and scheduled slots of the pool's task instances", async () => {
      const h = await makeHarness();
      const run = await h.json("POST", "/api/v2/dags/etl/dagRuns", { body: { logical_date: null } });
      const tis = (await h.store.listTaskInstances("default", "etl", run.body.dag_run_id)).items;
      const [extract, load] = tis;
      const now = new Date();
      await h.store.applyTransitions(
        [
          { id: extract!.id, from: ["none"], to: "scheduled" },
          { id: load!.id, from: ["none"], to: "scheduled" },
        ],
        now,
      );
      await h.store.applyTransitions([{ id: extract!.id, from: ["scheduled"], to: "queued" }], now);
      expect((await h.json("GET", "/api/v2/pools/default_pool")).body).toMatchObject({
        occupied_slots: 1,
        queued_slots: 1,
        running_slots: 0,
        scheduled_slots: 1,
        open_slots: 127,
      });
    });

    test("list: paging, order_by and pool_name_pattern", async () => {
      const h = await makeHarness();
      for (const name of ["b_pool", "a_pool", "gpu"]) await h.call("POST", "/api/v2/pools", { body: { name, slots: 1 } });
      const page = await h.json("GET", "/api/v2/pools?order_by=-name&limit=2");
      expect(page.body.pools.map((p: { name: string }) => p.name)).toEqual(["gpu", "default_pool"]);
      expect(page.body.total_entries).toBe(4);
      const search = await h.json("GET", "/api/v2/pools?pool_name_pattern=_pool");
      expect(search.body.pools.map((p: { name: string }) => p.name)).toEqual(["default_pool", "b_pool", "a_pool"]);
      const sub = await h.json("GET", "/api/v2/pools?pool_name_pattern=gp");
      expect(sub.body.pools.map((p: { name: string }) => p.name)).toEqual(["gpu"]);
    });

    test("unlimited pool: slots -1, open_slots -1", async () => {
      const h = await makeHarness();
      const r = await h.json("POST", "/api/v2/pools", { body: { name: "any", slots: -1 } });
      expect(r.body).toMatchObject({ slots: -1, open_slots: -1 });
    });

    test.each([
      ["delete default_pool", "DELETE", "/api/v2/pools/default_pool", undefined, 400, "Default Pool can't be deleted"],
      [
        "rename default_pool's description",
        "PATCH",
        "/api/v2/pools/default_pool",
        { description: "x" },
        400,
        "Only slots and included_deferred can be modified on Default Pool",
      ],
      [
        "body name differs from the path",
        "PATCH",
        "/api/v2/pools/default_pool",
        { name: "other", slots: 3 },
        400,
        "Invalid body, pool name from request body doesn't match uri parameter (other ≠ default_pool)",
      ],
      [
        "duplicate name",
        "POST",
        "/api/v2/pools",
        { name: "default_pool", slots: 3 },
        409,
        "The Pool with name: `default_pool` already exists",
      ],
      ["delete an unknown pool", "DELETE", "/api/v2/pools/nope", undefined, 404, "The Pool with name: `nope` was not found"],
      ["patch an unknown pool", "PATCH", "/api/v2/pools/nope", { slots: 1 }, 404, "The Pool with name: `nope` was not found"],
    ] as const)("%s → %i", async (_name, method, path, body, status, detail) => {
      const h = await makeHarness();
      expect(await h.json(method, path, body === undefined ? {} : { body })).toEqual({ status, body: { detail } });
    });

    test("default_pool's slots may change", async () => {
      const h = await makeHarness();
      expect((await h.json("PATCH", "/api/v2/pools/default_pool", { body: { slots: 4 } })).body).toMatchObject({ slots: 4, open_slots: 4 });
    });

    test.each([
      ["slots below -1", { name: "p", slots: -2 }, ["body", "slots"]],
      ["slots missing", { name: "p" }, ["body", "slots"]],
      ["unknown field", { name: "p", slots: 1, size: 3 }, ["body", "size"]],
      ["team_name in single-team mode", { name: "p", slots: 1, team_name: "a" }, ["body", "team_name"]],
    ])("bad body (%s) → 422", async (_name, body, loc) => {
      const h = await makeHarness();
      const r = await h.json("POST", "/api/v2/pools", { body });
      expect(r.status).toBe(422);
      expect(r.body.detail[0].loc).toEqual(loc);
    });

    test("a viewer may read pools but not change them", async () => {
      const h = await makeHarness();
      const token = await h.token("viewer");
      expect((await h.call("GET", "/api/v2/pools", { token })).status).toBe(200);
      expect((await h.call("POST", "/api/v2/pools", { token, body: { name: "p", slots: 1 } })).status).toBe(403);
      expect((await h.call("DELETE", "/api/v2/pools/default_pool", { token })).status).toBe(403);
    });
  });

  describe("PATCH /api/v2/pools (Airflow's bulk)", () => {
    test("create, update and delete pools in one request; the scheduler is woken", async () => {
      const h = await makeHarness();
      await h.json("POST", "/api/v2/pools", { body: { name: "gpu", slots: 2, description: "cards", include_deferred: true } });
      await h.json("POST", "/api/v2/pools", { body: { name: "old", slots: 1 } });
      const r = await h.json("PATCH", "/api/v2/pools", {
        body: {
          actions: [
            { action: "create", entities: [{ name: "cpu", slots: 8 }] },
            { action: "update", entities: [{ name: "gpu", slots: 4 }] },
            { action: "delete", entities: ["old"] },
          ],
        },
      });
      expect(r.body).toEqual({
        create: { success: ["cpu"], errors: [] },
        update: { success: ["gpu"], errors: [] },
        delete: { success: ["old"], errors: [] },
      });
      expect(h.wakes.length).toBeGreaterThan(0);
      const pools = (await h.json("GET", "/api/v2/pools")).body.pools.map((p: any) => [p.name, p.slots, p.description, p.include_deferred]);
      expect(pools).toEqual([
        ["default_pool", 128, "Default pool", false],
        ["gpu", 4, "cards", true],
        ["cpu", 8, null, false],
      ]);
    });

    test("actions on one pool apply in order, each over the one before: a create's fields survive its update", async () => {
      const h = await makeHarness();
      const r = await h.json("PATCH", "/api/v2/pools", {
        body: {
          actions: [
            { action: "create", entities: [{ name: "gpu", slots: 2, description: "cards", include_deferred: true }] },
            { action: "update", entities: [{ name: "gpu", slots: 4 }] },
          ],
        },
      });
      expect(r.body).toEqual({ create: { success: ["gpu"], errors: [] }, update: { success: ["gpu"], errors: [] }, delete: null });
      expect((await h.json("GET", "/api/v2/pools/gpu")).body).toMatchObject({ slots: 4, description: "cards", include_deferred: true });
    });

    test("default_pool cannot be deleted (400) and an unknown pool to update is a 404 for that action", async () => {
      const h = await makeHarness();
      const r = await h.json("PATCH", "/api/v2/pools", {
        body: {
          actions: [
            { action: "delete", entities: ["default_pool"] },
            { action: "update", entities: [{ name: "nope", slots: 1 }] },
          ],
        },
      });
      expect(r.body).toEqual({
        create: null,
        update: { success: [], errors: [{ error: "The pools with these names: {'nope'} were not found.", status_code: 404 }] },
        delete: { success: [], errors: [{ error: "Default Pool can't be deleted", status_code: 400 }] },
      });
      expect((await h.json("GET", "/api/v2/pools/default_pool")).status).toBe(200);
    });
  });
});
