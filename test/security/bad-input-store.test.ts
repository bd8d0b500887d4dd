/**
 * The store layer's half of "bad input, no 500s", on SQLite and on Postgres: what agents write over the RPC
 * (PushXCom, AppendLogs, ReportState notes) and runs the scheduler creates (conf from DAG params) get the
 * same answer from both stores, a ValidationError naming the field or text kept as U+FFFD, never a driver
 * error. The API's half (request bodies) is test/security/bad-input.test.ts.
 */
import { expect, test } from "bun:test";
import { ValidationError } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import type { Store } from "../../src/store";
import { forEachStore } from "../support/stores";
import { T0, newRun } from "../store/contract-fixtures";

async function withRun(store: Store) {
  await store.migrate();
  const spec = parseDagSpec({ dag_id: "d", tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }] });
  const dag = await store.upsertDag("default", { spec, fileloc: "/dags/d.json", pausedOnCreate: false, now: T0 });
  const run = await store.createDagRun(newRun(dag, "r"));
  const [ti] = (await store.listTaskInstances("default", "d", "r")).items;
  return { run, ti: ti! };
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ValidationError);
    return (e as Error).message;
  }
  throw new Error("expected a ValidationError");
}

forEachStore((backend) => {
  test(`${backend.name}: an XCom with NUL, a lone surrogate or 65 levels is refused naming where; a fine one round-trips`, async () => {
    const store = await backend.open();
    await withRun(store);
    const key = { team: "default", dag_id: "d", run_id: "r", task_id: "t", key: "return_value" };
    expect(await refusal(store.setXCom(key, { s: "a\u0000b" }, T0))).toBe(
      "XCom return_value of task t cannot be stored: return_value.s contains U+0000 (NUL), which Leoflow does not store (Postgres text and jsonb cannot hold it); remove it, or encode binary data as base64",
    );
    expect(await refusal(store.setXCom(key, ["\ud800"], T0))).toContain("return_value[0] contains a lone UTF-16 surrogate (U+D800)");
    let deep: unknown = 1;
    for (let i = 0; i < 65; i++) deep = [deep];
    expect(await refusal(store.setXCom(key, deep, T0))).toContain("nested deeper than 64 levels at return_value[0]");
    expect(await store.getXCom(key)).toBeNull();
    await store.setXCom(key, { s: "é 😀 \\u0000" }, T0);
    expect((await store.getXCom(key))!.value).toEqual({ s: "é 😀 \\u0000" });
    await store.close();
  });

  test(`${backend.name}: log lines keep NUL and lone surrogates as U+FFFD`, async () => {
    const store = await backend.open();
    const { ti } = await withRun(store);
    await store.appendLogs(ti.id, 1, 0, [
      { timestamp: T0, stream: "stdout", line: "a\u0000b" },
      { timestamp: T0, stream: "stderr", line: "x\ud800y\udc00" },
      { timestamp: T0, stream: "stdout", line: "pair 😀 kept" },
    ]);
    expect((await store.readLogs(ti.id, 1)).map((l) => l.line)).toEqual(["a\uFFFDb", "x\uFFFDy\uFFFD", "pair 😀 kept"]);
    await store.close();
  });

  test(`${backend.name}: a run whose conf or note holds NUL is refused naming the field`, async () => {
    const store = await backend.open();
    const { run } = await withRun(store);
    const dag = { team: "default", dag_id: "d", version_id: run.version_id };
    expect(await refusal(store.createDagRun(newRun(dag, "r2", { conf: { p: "\u0000" } })))).toStartWith("conf.p contains U+0000 (NUL)");
    expect(await refusal(store.createDagRun(newRun(dag, "r3", { note: "\ud800" })))).toStartWith("note contains a lone UTF-16 surrogate");
    expect((await store.listDagRuns("default", {})).total).toBe(1);
    await store.close();
  });

  test(`${backend.name}: a task's note from an agent (its error message) keeps NUL as U+FFFD`, async () => {
    const store = await backend.open();
    const { ti } = await withRun(store);
    const [applied] = await store.applyTransitions([{ id: ti.id, from: ["none"], to: "failed", patch: { note: "boom\u0000 \ud800" } }], T0);
    expect(applied).toBe(true);
    expect((await store.getTaskInstanceById(ti.id))!.note).toBe("boom\uFFFD \uFFFD");
    await store.close();
  });
});
