/**
 * A mapped inline http task through the scheduler loop, on SQLite and Postgres, against a real local HTTP
 * server: an upstream returns a list, the mapped task sends one request per item with `{{ map.NAME }}` and
 * `{{ map_index }}` rendered per instance, and a downstream receives the instances' responses as one list
 * in map_index order (the reduce) through `{{ xcom.TASK }}`.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { guardedStore, openStore, type Store } from "../../src/store";
import { PostgresStore } from "../../src/store/postgres";
import { parseDagSpec } from "../../src/domain/schemas";
import { buildDagRun } from "../../src/scheduler/trigger";
import { inlineLoop } from "../support/inline-loop";
import { describePg, freshSchemas, pgUrl } from "../support/postgres";

let server: ReturnType<typeof Bun.serve>;
let base = "";
const received: { path: string; body: string }[] = [];

beforeAll(() => {
  server = Bun.serve({
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      const body = await req.text();
      received.push({ path: url.pathname + url.search, body });
      if (url.pathname === "/list")
        return Response.json([
          { id: "a", n: 1 },
          { id: "b", n: 2 },
          { id: "c", n: 3 },
        ]);
      if (url.pathname.startsWith("/item/")) return Response.json({ got: url.pathname.slice(6), doubled: JSON.parse(body).n * 2 });
      if (url.pathname === "/total") return new Response("ok");
      return new Response("not found", { status: 404 });
    },
  });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(() => server.stop(true));

function suite(makeStore: () => Promise<Store>) {
  let store: Store;
  beforeEach(async () => {
    store = await makeStore();
    await store.migrate();
    received.length = 0;
  });
  afterEach(async () => store.close());

  test("one request per instance with its own arguments, and the downstream receives the ordered list", async () => {
    const spec = parseDagSpec({
      dag_id: "webmap",
      tasks: [
        { task_id: "list", operator: "http", http: { url: `${base}/list` } },
        {
          task_id: "call",
          operator: "http",
          expand_kwargs: { xcom: "list" },
          http: {
            method: "POST",
            url: `${base}/item/{{ map.id }}?i={{ map_index }}&ti={{ ti.map_index }}`,
            json: { n: "{{ map.n }}" },
          },
        },
        {
          task_id: "total",
          operator: "http",
          upstream: ["call"],
          http: { method: "POST", url: `${base}/total`, json: { all: "{{ xcom.call }}" } },
        },
      ],
    });
    const dag = await store.upsertDag("default", { spec, fileloc: "/dags/webmap.json", pausedOnCreate: false, now: new Date() });
    const { loop, runner } = inlineLoop(store, { concurrency: 8, parallelism: 8 });
    const run = await store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null }, new Date()));
    loop.start();
    loop.wake(run.id);
    let current = run;
    for (let i = 0; i < 1000 && current.state !== "success" && current.state !== "failed"; i++) {
      await Bun.sleep(10);
      current = (await store.getDagRunById(run.id))!;
    }
    await loop.stop();
    await runner.close(1000);
    expect(current.state).toBe("success");
    const items = received.filter((r) => r.path.startsWith("/item/")).sort((a, b) => a.path.localeCompare(b.path));
    expect(items).toEqual([
      { path: "/item/a?i=0&ti=0", body: '{"n":1}' },
      { path: "/item/b?i=1&ti=1", body: '{"n":2}' },
      { path: "/item/c?i=2&ti=2", body: '{"n":3}' },
    ]);
    expect(received.find((r) => r.path === "/total")!.body).toBe(
      JSON.stringify({
        all: [
          { got: "a", doubled: 2 },
          { got: "b", doubled: 4 },
          { got: "c", doubled: 6 },
        ],
      }),
    );
  });
}

describe("a mapped http task through the loop: sqlite", () => suite(async () => openStore("sqlite::memory:")));

describePg("a mapped http task through the loop: postgres", () => {
  const schemas = freshSchemas();
  suite(async () => guardedStore(new PostgresStore({ url: pgUrl(), schema: schemas.next(), max: 4 })));
});
