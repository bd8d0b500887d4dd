/**
 * Teams through the API (issue 21), configuration routes: variables, connections (and their test), pools,
 * the bulk PATCH of all three, and the event log act in the request's team (Leoflow-Team header). A record of
 * another team answers exactly as a missing one: 404 with the same detail, never 403.
 */
import { expect, test } from "bun:test";
import { forEachApiStore, type Harness } from "./harness";

const B = "team-b";
const inB = { "Leoflow-Team": B };

async function withTeamB(h: Harness): Promise<Harness> {
  await h.store.createTeam(
    { name: B, description: null, max_running_tasks: null, max_pool_slots: null, max_inline_requests: null, executor_policy: {} },
    new Date("2026-03-01T12:00:00Z"),
  );
  return h;
}

forEachApiStore((makeHarness) => {
  test("variables: the same key in two teams holds two values; another team's is a 404 like a missing one", async () => {
    const h = await withTeamB(await makeHarness());
    expect((await h.json("POST", "/api/v2/variables", { body: { key: "region", value: "eu" } })).status).toBe(201);
    expect((await h.json("POST", "/api/v2/variables", { body: { key: "region", value: "us" }, headers: inB })).status).toBe(201);
    expect((await h.json("POST", "/api/v2/variables", { body: { key: "b_only", value: "x" }, headers: inB })).status).toBe(201);

    expect((await h.json("GET", "/api/v2/variables/region")).body.value).toBe("eu");
    expect((await h.json("GET", "/api/v2/variables/region", { headers: inB })).body.value).toBe("us");
    expect((await h.json("GET", "/api/v2/variables")).body.variables.map((v: { key: string }) => v.key)).toEqual(["region"]);
    const missing = await h.json("GET", "/api/v2/variables/nope");
    const other = await h.json("GET", "/api/v2/variables/b_only");
    expect(missing.status).toBe(404);
    expect(other).toEqual({ status: 404, body: { ...missing.body, detail: missing.body.detail.replace("nope", "b_only") } });
    expect((await h.call("DELETE", "/api/v2/variables/b_only")).status).toBe(404);
    expect((await h.json("PATCH", "/api/v2/variables/b_only", { body: { key: "b_only", value: "y" } })).status).toBe(404);

    // Bulk in the default team: a delete of B's key is "not found" there and B keeps it.
    const bulk = await h.json("PATCH", "/api/v2/variables", {
      body: { actions: [{ action: "delete", entities: ["b_only"], action_on_non_existence: "skip" }] },
    });
    expect(bulk.body.delete).toEqual({ success: [], errors: [] });
    expect((await h.json("GET", "/api/v2/variables/b_only", { headers: inB })).body.value).toBe("x");
  });

  test("connections: each team reads, patches and deletes only its own", async () => {
    const h = await withTeamB(await makeHarness());
    const conn = { connection_id: "api", conn_type: "http", host: "a.example.com", password: "pw-a" };
    expect((await h.json("POST", "/api/v2/connections", { body: conn })).status).toBe(201);
    expect((await h.json("GET", "/api/v2/connections/api", { headers: inB })).status).toBe(404);
    expect(
      (await h.json("PATCH", "/api/v2/connections/api", { body: { connection_id: "api", conn_type: "ftp" }, headers: inB })).status,
    ).toBe(404);
    expect((await h.call("DELETE", "/api/v2/connections/api", { headers: inB })).status).toBe(404);
    expect((await h.json("GET", "/api/v2/connections", { headers: inB })).body).toEqual({ connections: [], total_entries: 0 });
    const created = await h.json("POST", "/api/v2/connections", {
      body: { ...conn, host: "b.example.com", password: "pw-b" },
      headers: inB,
    });
    expect(created.status).toBe(201);
    expect((await h.json("GET", "/api/v2/connections/api")).body.host).toBe("a.example.com");
    expect((await h.store.getConnection(B, "api"))?.password).toBe("pw-b");
    expect((await h.call("DELETE", "/api/v2/connections/api", { headers: inB })).status).toBe(204);
    expect((await h.store.getConnection("default", "api"))?.password).toBe("pw-a");
  });

  test("pools: each team has its own default_pool; a pool of the same name in B is not A's", async () => {
    const h = await withTeamB(await makeHarness());
    const names = async (headers?: Record<string, string>) =>
      (await h.json("GET", "/api/v2/pools", { headers })).body.pools.map((p: { name: string; slots: number }) => [p.name, p.slots]);
    expect((await h.json("POST", "/api/v2/pools", { body: { name: "gpu", slots: 2 }, headers: inB })).body).toMatchObject({
      name: "gpu",
      team_name: B,
    });
    expect(await names()).toEqual([["default_pool", 128]]);
    expect(await names(inB)).toEqual([
      ["default_pool", 128],
      ["gpu", 2],
    ]);
    expect((await h.json("GET", "/api/v2/pools/gpu")).status).toBe(404);
    expect((await h.json("GET", "/api/v2/pools/default_pool")).body.team_name).toBeNull();
    expect((await h.json("PATCH", "/api/v2/pools/gpu", { body: { slots: 5 } })).status).toBe(404);
    const bulk = await h.json("PATCH", "/api/v2/pools", {
      body: { actions: [{ action: "create", entities: [{ name: "gpu", slots: 7 }], action_on_existence: "fail" }] },
    });
    expect(bulk.body.create).toEqual({ success: ["gpu"], errors: [] });
    expect(await names(inB)).toEqual([
      ["default_pool", 128],
      ["gpu", 2],
    ]);
    expect((await h.json("DELETE", "/api/v2/pools/default_pool", { headers: inB })).status).toBe(400);
  });

  test("event log: a team's calls are audited in that team and invisible to the other", async () => {
    const h = await withTeamB(await makeHarness());
    await h.json("POST", "/api/v2/variables", { body: { key: "k", value: "a" } });
    await h.json("POST", "/api/v2/variables", { body: { key: "k", value: "b" }, headers: inB });
    const logs = async (headers?: Record<string, string>) => (await h.json("GET", "/api/v2/eventLogs", { headers })).body;
    const inA = await logs();
    const ofB = await logs(inB);
    expect(inA.total_entries).toBe(1);
    expect(ofB.total_entries).toBe(1);
    const idB = ofB.event_logs[0].event_log_id;
    expect(idB).not.toBe(inA.event_logs[0].event_log_id);
    expect((await h.json("GET", `/api/v2/eventLogs/${idB}`, { headers: inB })).status).toBe(200);
    expect(await h.json("GET", `/api/v2/eventLogs/${idB}`)).toEqual({
      status: 404,
      body: expect.objectContaining({ detail: `The Event Log with id: \`${idB}\` not found` }),
    });
  });
});
