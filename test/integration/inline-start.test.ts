/**
 * An inline http task's way from none to running through the scheduler loop, on SQLite and Postgres: the
 * tick leaves its transition into scheduled to the inline runner, which writes it in the same store call as
 * the start (one write between an upstream's end and its downstream's start instead of two); a task the
 * runner does not take (busy at its limit) or refuses (over the duration cap) still ends up written
 * scheduled, or failed from scheduled, by that tick.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { guardedStore, openStore, type Store } from "../../src/store";
import { PostgresStore } from "../../src/store/postgres";
import type { TaskState, TaskTransition } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import { buildDagRun } from "../../src/scheduler/trigger";
import { inlineLoop } from "../support/inline-loop";
import { describePg, freshSchemas, pgUrl } from "../support/postgres";
import { overriding } from "../../src/store/decorate";

let server: ReturnType<typeof Bun.serve>;
let base = "";
let release: (() => void) | null = null;

beforeAll(() => {
  server = Bun.serve({
    port: 0,
    async fetch(req) {
      if (new URL(req.url).pathname === "/hold") await new Promise<void>((r) => (release = r));
      return new Response("ok");
    },
  });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(() => server.stop(true));

/** The store, recording every applyTransitions batch as "id:from>to" steps. */
function recording(store: Store): { store: Store; batches: string[][] } {
  const batches: string[][] = [];
  const step = (t: TaskTransition) => `${t.id}:${t.from.join("|")}>${t.to}`;
  const wrapped = overriding(store, {
    applyTransitions: (ts, now) => (batches.push(ts.map(step)), store.applyTransitions(ts, now)),
    // A try's end writes its outcome through finishInlineTries (with its XCom and lines): recorded alike.
    finishInlineTries: (ends, now) => (batches.push(ends.map((e) => step(e.transition))), store.finishInlineTries(ends, now)),
  });
  return { store: wrapped, batches };
}

function suite(makeStore: () => Promise<Store>) {
  let raw: Store;
  beforeEach(async () => {
    raw = await makeStore();
    await raw.migrate();
  });
  afterEach(async () => raw.close());

  async function setUp(tasks: Record<string, unknown>[], concurrency = 8) {
    const { store, batches } = recording(raw);
    const spec = parseDagSpec({ dag_id: "web", tasks });
    const dag = await store.upsertDag("default", { spec, fileloc: "/dags/web.json", pausedOnCreate: false, now: new Date() });
    const { loop, runner } = inlineLoop(store, { concurrency, parallelism: 8 });
    const run = await store.createDagRun(buildDagRun(dag, { run_type: "manual", logical_date: null }, new Date()));
    const tis = async () =>
      Object.fromEntries((await store.listTaskInstances("default", "web", run.run_id)).items.map((t) => [t.task_id, t]));
    return { store, batches, loop, runner, run, tis };
  }

  test("each task of a chain is scheduled and started by one write, none → scheduled → running in order", async () => {
    const { store, batches, loop, runner, run, tis } = await setUp([
      { task_id: "a", operator: "http", http: { url: `${base}/ok` } },
      { task_id: "b", operator: "http", upstream: ["a"], http: { url: `${base}/ok` } },
    ]);
    loop.start();
    let current = run;
    for (let i = 0; i < 500 && current.state !== "success" && current.state !== "failed"; i++) {
      await Bun.sleep(10);
      current = (await store.getDagRunById(run.id))!;
    }
    await loop.stop();
    await runner.close(1000);
    expect(current.state).toBe("success");
    const { a, b } = await tis();
    for (const ti of [a!, b!]) {
      expect(ti).toMatchObject({ state: "success", queued_at: null, hostname: "inline" });
      const steps = batches.filter((batch) => batch.some((s) => s.startsWith(`${ti.id}:`)));
      expect(steps).toEqual([[`${ti.id}:none>scheduled`, `${ti.id}:scheduled>running`], [`${ti.id}:running>success`]]);
    }
  });

  test("a task the busy runner does not take is written scheduled by the same tick, and started by a later one", async () => {
    const { loop, runner, tis } = await setUp(
      [
        { task_id: "a", operator: "http", http: { url: `${base}/hold` } },
        { task_id: "b", operator: "http", http: { url: `${base}/ok` } },
      ],
      1,
    );
    await loop.tick();
    const states = (t: Record<string, { state: TaskState }>) => [t.a!.state, t.b!.state].sort();
    expect(states(await tis())).toEqual(["running", "scheduled"]);
    while (!release) await Bun.sleep(5);
    release();
    release = null;
    const settled = async () => {
      for (let i = 0; i < 500 && runner.inFlight > 0; i++) await Bun.sleep(5);
    };
    await settled();
    await loop.tick(); // a's end woke its run
    await settled();
    expect(states(await tis())).toEqual(["success", "success"]);
  });

  test("a task over the duration cap is refused from scheduled in the write that schedules it", async () => {
    const { batches, loop, tis } = await setUp([{ task_id: "a", operator: "http", execution_timeout: 600, http: { url: `${base}/ok` } }]);
    await loop.tick();
    const { a } = await tis();
    expect(a).toMatchObject({ state: "failed" });
    expect(a!.note).toContain("execution_timeout 600s is over the inline task cap of 60s");
    expect(batches).toContainEqual([`${a!.id}:none>scheduled`, `${a!.id}:scheduled>failed`]);
  });
}

describe("inline starts through the loop: sqlite", () => suite(async () => openStore("sqlite::memory:")));

describePg("inline starts through the loop: postgres", () => {
  const schemas = freshSchemas();
  suite(async () => guardedStore(new PostgresStore({ url: pgUrl(), schema: schemas.next(), max: 4 })));
});
