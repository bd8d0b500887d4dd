/**
 * Store contract for startTry and finishTry (an agent's Register and ReportState): the try the token names
 * moves queued → running with its agent's host and pid, then running → its outcome with its note and end; each
 * call answers the task instance as it is afterwards and changes nothing for another try, another task, a try
 * not in the state it leaves (a resend answers the row as it is), or an unknown id; a rescheduled sensor keeps
 * its first start; a final failure spends no retry; each write has its webhook outbox row like any transition.
 * appendTryLogs stores a live try's lines (queued or running) and nothing for any other; pushTryXCom, its value.
 */
import { describe, expect, test } from "bun:test";
import type { TaskTransition, WebhookInput } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import type { Store, TryFinish, TryNext, TryStart } from "../../src/store";
import { newRun, T0 } from "./contract-fixtures";

const at = (s: number) => new Date(T0.getTime() + s * 1000);
const hook: WebhookInput = {
  url: "http://127.0.0.1:9/hook",
  event_types: ["task_instance.state_changed"],
  secret: "0123456789abcdef",
};

/** Tasks a and b of one run, both queued in try 1 (queued at 1 s), and c waiting (none). */
export async function queued(store: Store) {
  const dag = await store.upsertDag("default", {
    spec: parseDagSpec({ dag_id: "etl", tasks: ["a", "b", "c"].map((task_id) => ({ task_id, operator: "bash", bash_command: "true" })) }),
    fileloc: "/dags/etl.json",
    pausedOnCreate: false,
    now: T0,
  });
  const task = (task_id: string) => ({ task_id, operator: "bash", max_tries: 0, pool: "default_pool", pool_slots: 1, priority_weight: 1 });
  await store.createDagRun(newRun(dag, "r1", { tasks: [task("a"), task("b"), task("c")] }));
  const tis = (await store.listTaskInstances("default", "etl", "r1")).items;
  await store.applyTransitions(
    tis.flatMap((ti): TaskTransition[] =>
      ti.task_id === "c"
        ? []
        : [
            { id: ti.id, from: ["none"], to: "scheduled", patch: { try_number: 1 } },
            { id: ti.id, from: ["scheduled"], to: "queued", patch: { queued_at: at(1) } },
          ],
    ),
    at(1),
  );
  const id = (task: string) => tis.find((t) => t.task_id === task)!.id;
  const start = (task: string, over: Partial<TryStart> = {}): TryStart => ({
    id: id(task),
    dag_id: "etl",
    run_id: "r1",
    task_id: task,
    try_number: 1,
    hostname: "worker-1",
    pid: 4242,
    ...over,
  });
  const finish = (task: string, over: Partial<TryFinish> = {}): TryFinish => ({
    id: id(task),
    dag_id: "etl",
    run_id: "r1",
    task_id: task,
    try_number: 1,
    to: "success",
    note: null,
    final: false,
    ...over,
  });
  /** A chain's next task `task` moving none → scheduled → queued (TryFinish.next). */
  const next = (task: string): TryNext => ({
    scheduling: { id: id(task), from: ["none"], to: "scheduled" },
    queued: { id: id(task), from: ["scheduled"], to: "queued", try_number: 1, patch: { queued_at: at(5), executor: "subprocess" } },
  });
  /** The same, started with the end as the scheduler's hand-off does for a warm agent (… → queued → running). */
  const startedNext = (task: string, now: Date): TryNext => ({
    scheduling: { id: id(task), from: ["none"], to: "scheduled" },
    queued: { id: id(task), from: ["scheduled"], to: "queued", try_number: 1, patch: { queued_at: now, executor: "subprocess" } },
    start: {
      id: id(task),
      from: ["queued"],
      to: "running",
      try_number: 1,
      patch: { start_date: now, last_heartbeat: now, hostname: "leader-1", pid: null, note: null },
    },
  });
  return { id, start, finish, next, startedNext };
}

export function agentTriesContract(getStore: () => Store): void {
  describe("startTry", () => {
    test("moves the token's queued try to running and answers the row as written", async () => {
      const store = getStore();
      const { id, start } = await queued(store);
      const res = await store.startTry(start("a"), at(2));
      expect(res!.applied).toBe(true);
      expect(res!.ti).toMatchObject({ id: id("a"), state: "running", try_number: 1, start_date: at(2), last_heartbeat: at(2) });
      expect(res!.ti).toMatchObject({ hostname: "worker-1", pid: 4242, queued_at: at(1), note: null });
      expect(await store.getTaskInstanceById(id("a"))).toEqual(res!.ti);
      expect((await store.getTaskInstanceById(id("b")))!.state).toBe("queued");
      // With its run and its DAG's file, read in the same write (Register builds the try's spec from them).
      expect(res!.run).toEqual((await store.getDagRunById(res!.ti.dag_run_id))!);
      expect(res!.dagFileloc).toBe("/dags/etl.json");
    });

    test("a second start (a retried Register) changes nothing and answers the running row with its run", async () => {
      const store = getStore();
      const { start } = await queued(store);
      const first = await store.startTry(start("a"), at(2));
      const again = await store.startTry(start("a", { hostname: "worker-2", pid: 1 }), at(3));
      expect(again).toEqual({ applied: false, ti: first!.ti, run: first!.run, dagFileloc: "/dags/etl.json" });
    });

    test("another try, another task's names or an unknown id start nothing", async () => {
      const store = getStore();
      const { id, start } = await queued(store);
      const before = await store.getTaskInstanceById(id("a"));
      expect(await store.startTry(start("a", { try_number: 2 }), at(2))).toEqual({ applied: false, ti: before! });
      expect(await store.startTry(start("a", { task_id: "b" }), at(2))).toEqual({ applied: false, ti: before! });
      expect(await store.startTry(start("a", { run_id: "r2" }), at(2))).toEqual({ applied: false, ti: before! });
      expect(await store.startTry(start("a", { id: id("a") + 1000 }), at(2))).toBeNull();
      expect(await store.getTaskInstanceById(id("a"))).toEqual(before);
    });

    test("a try that is no longer queued is answered as it is", async () => {
      const store = getStore();
      const { id, start } = await queued(store);
      await store.applyTransitions([{ id: id("a"), from: ["queued"], to: "failed", patch: { note: "reaped" } }], at(2));
      const res = await store.startTry(start("a"), at(3));
      expect(res!.applied).toBe(false);
      expect(res!.ti).toMatchObject({ state: "failed", note: "reaped", start_date: null, hostname: null });
    });

    test("a sensor back from up_for_reschedule keeps its first start", async () => {
      const store = getStore();
      const { id, start } = await queued(store);
      await store.startTry(start("a"), at(2));
      await store.applyTransitions(
        [
          { id: id("a"), from: ["running"], to: "up_for_reschedule" },
          { id: id("a"), from: ["up_for_reschedule"], to: "scheduled" },
          { id: id("a"), from: ["scheduled"], to: "queued", patch: { queued_at: at(10) } },
        ],
        at(10),
      );
      const res = await store.startTry(start("a"), at(11));
      expect(res!.applied).toBe(true);
      expect(res!.ti).toMatchObject({ state: "running", start_date: at(2), last_heartbeat: at(11) });
    });

    test("a start writes its webhook outbox row; one that does not apply writes none", async () => {
      const store = getStore();
      const { start } = await queued(store);
      const w = await store.createWebhook("default", hook, at(0));
      await store.startTry(start("a"), at(2));
      await store.startTry(start("a"), at(3));
      await store.startTry(start("b", { try_number: 2 }), at(3));
      const rows = (await store.listWebhookDeliveries("default", w.id)).items;
      expect(rows.map((d) => [d.event.task_id, d.event.state, d.event.try_number])).toEqual([["a", "running", 1]]);
    });
  });

  describe("finishTry", () => {
    test("ends the token's running try with its outcome and note, and answers the row as written", async () => {
      const store = getStore();
      const { id, start, finish } = await queued(store);
      await store.startTry(start("a"), at(2));
      const res = await store.finishTry(finish("a", { to: "failed", note: "exit code 3" }), at(5));
      expect(res!.applied).toBe(true);
      expect(res!.ti).toMatchObject({ state: "failed", note: "exit code 3", start_date: at(2), end_date: at(5), max_tries: 0 });
      expect(await store.getTaskInstanceById(id("a"))).toEqual(res!.ti);
    });

    test("a final failure spends no retry: max_tries drops to the tries made", async () => {
      const store = getStore();
      const { id, start, finish } = await queued(store);
      await store.applyTransitions([{ id: id("a"), from: ["queued"], to: "queued", patch: { max_tries: 3 } }], at(1));
      await store.startTry(start("a"), at(2));
      const res = await store.finishTry(finish("a", { to: "failed", note: "sensor timed out", final: true }), at(5));
      expect(res!.ti).toMatchObject({ state: "failed", max_tries: 0 });
    });

    test("a failure with retries left is written up_for_retry at once, its webhook event too: no reader sees it failed", async () => {
      const store = getStore();
      const { id, start, finish } = await queued(store);
      await store.applyTransitions([{ id: id("a"), from: ["queued"], to: "queued", patch: { max_tries: 1 } }], at(1));
      await store.startTry(start("a"), at(2));
      const w = await store.createWebhook("default", hook, at(0));
      const res = await store.finishTry(finish("a", { to: "failed", note: "exit code 3" }), at(5));
      expect(res!.ti).toMatchObject({ state: "up_for_retry", note: "exit code 3", end_date: at(5), max_tries: 1 });
      const rows = (await store.listWebhookDeliveries("default", w.id)).items;
      expect(rows.map((d) => [d.event.task_id, d.event.state])).toEqual([["a", "up_for_retry"]]);
    });

    test("a resend, another try, another task or a try not running change nothing; an unknown id is null", async () => {
      const store = getStore();
      const { id, start, finish } = await queued(store);
      const queuedB = await store.getTaskInstanceById(id("b"));
      expect(await store.finishTry(finish("b"), at(3))).toEqual({ applied: false, ti: queuedB! });
      await store.startTry(start("a"), at(2));
      const running = await store.getTaskInstanceById(id("a"));
      expect(await store.finishTry(finish("a", { try_number: 2 }), at(3))).toEqual({ applied: false, ti: running! });
      expect(await store.finishTry(finish("a", { task_id: "b" }), at(3))).toEqual({ applied: false, ti: running! });
      expect(await store.finishTry(finish("a", { id: id("a") + 1000 }), at(3))).toBeNull();
      const done = await store.finishTry(finish("a"), at(4));
      expect(await store.finishTry(finish("a", { to: "failed", note: "late" }), at(5))).toEqual({ applied: false, ti: done!.ti });
    });

    test("an end writes its webhook outbox row", async () => {
      const store = getStore();
      const { start, finish } = await queued(store);
      await store.startTry(start("a"), at(2));
      const w = await store.createWebhook("default", hook, at(0));
      await store.finishTry(finish("a", { to: "skipped" }), at(3));
      await store.finishTry(finish("a"), at(4));
      const rows = (await store.listWebhookDeliveries("default", w.id)).items;
      expect(rows.map((d) => [d.event.task_id, d.event.state])).toEqual([["a", "skipped"]]);
    });
  });

  describe("finishTry with the try's last log lines", () => {
    const lines = (firstSeq: number, ...texts: string[]) => ({
      firstSeq,
      lines: texts.map((line, i) => ({ timestamp: at(3 + i), stream: "stdout" as const, line })),
    });

    test.each([false, true])("stores them with the end that applies, after the lines before them (webhook: %p)", async (webhook) => {
      const store = getStore();
      const { id, start, finish } = await queued(store);
      if (webhook) await store.createWebhook("default", hook, at(0));
      await store.startTry(start("a"), at(2));
      await store.appendTryLogs(start("a"), 0, lines(0, "first").lines);
      const res = await store.finishTry(finish("a", { lines: lines(1, "second", "exit code 0 after 0.01s\u0000") }), at(5));
      expect([res!.applied, res!.ti.state]).toEqual([true, "success"]);
      expect((await store.readLogs(id("a"), 1)).map((l) => [l.seq, l.stream, l.line, l.timestamp])).toEqual([
        [0, "stdout", "first", at(3)],
        [1, "stdout", "second", at(3)],
        // NUL is kept as U+FFFD, as AppendLogs keeps it.
        [2, "stdout", "exit code 0 after 0.01s\uFFFD", at(4)],
      ]);
    });

    test("a resend, a report for another try, or one for a try no longer running stores none", async () => {
      const store = getStore();
      const { id, start, finish } = await queued(store);
      await store.startTry(start("a"), at(2));
      await store.startTry(start("b"), at(2));
      expect((await store.finishTry(finish("a", { try_number: 2, lines: lines(0, "stale") }), at(4)))!.applied).toBe(false);
      await store.finishTry(finish("a", { lines: lines(0, "kept") }), at(4));
      expect((await store.finishTry(finish("a", { lines: lines(0, "resent", "more") }), at(5)))!.applied).toBe(false);
      expect((await store.readLogs(id("a"), 1)).map((l) => l.line)).toEqual(["kept"]);
      expect(await store.readLogs(id("a"), 2)).toEqual([]);
      // Marked failed meanwhile (a reaper, a user): its agent's report and lines are refused.
      await store.applyTransitions([{ id: id("b"), from: ["running"], to: "failed", patch: { note: "marked" } }], at(5));
      expect((await store.finishTry(finish("b", { lines: lines(0, "late") }), at(6)))!.applied).toBe(false);
      expect(await store.readLogs(id("b"), 1)).toEqual([]);
    });

    test("with a chain's next task: the lines, the end and the next task's move in one write", async () => {
      const store = getStore();
      const { id, start, finish, next } = await queued(store);
      await store.startTry(start("a"), at(2));
      const res = await store.finishTry(finish("a", { next: next("c"), lines: lines(0, "done") }), at(5));
      expect([res!.applied, res!.nextApplied]).toEqual([true, true]);
      expect((await store.readLogs(id("a"), 1)).map((l) => l.line)).toEqual(["done"]);
      expect((await store.getTaskInstanceById(id("c")))!.state).toBe("queued");
    });
  });

  describe("finishTry with a chain's next task", () => {
    test.each([false, true])("queues it with the end's success, not with a failure or a resend (webhook: %p)", async (webhook) => {
      const store = getStore();
      const { id, start, finish, next } = await queued(store);
      const w = webhook ? await store.createWebhook("default", hook, at(0)) : null;
      await store.startTry(start("a"), at(2));
      await store.startTry(start("b"), at(2));
      const failed = await store.finishTry(finish("b", { to: "failed", note: "exit code 1", next: next("c") }), at(4));
      expect([failed!.applied, failed!.nextApplied]).toEqual([true, false]);
      expect((await store.getTaskInstanceById(id("c")))!.state).toBe("none");
      const won = await store.finishTry(finish("a", { next: next("c") }), at(5));
      expect([won!.applied, won!.ti.state, won!.nextApplied]).toEqual([true, "success", true]);
      expect(await store.getTaskInstanceById(id("c"))).toMatchObject({
        state: "queued",
        try_number: 1,
        queued_at: at(5),
        executor: "subprocess",
      });
      const resend = await store.finishTry(finish("a", { next: next("c") }), at(6));
      expect([resend!.applied, resend!.nextApplied]).toEqual([false, false]);
      if (!w) return;
      const rows = (await store.listWebhookDeliveries("default", w.id)).items;
      const seen = rows.map((d) => `${d.event.task_id} ${d.event.state}`).sort();
      expect(seen).toEqual(["a running", "a success", "b failed", "b running", "c queued", "c scheduled"]);
    });

    test.each([false, true])("starts it with the end's success when the hand-off says so (webhook: %p)", async (webhook) => {
      const store = getStore();
      const { id, start, finish, startedNext } = await queued(store);
      const w = webhook ? await store.createWebhook("default", hook, at(0)) : null;
      await store.startTry(start("a"), at(2));
      const res = await store.finishTry(finish("a", { next: startedNext("c", at(5)) }), at(5));
      expect([res!.applied, res!.ti.end_date, res!.nextApplied]).toEqual([true, at(5), true]);
      const c = (await store.getTaskInstanceById(id("c")))!;
      expect(c).toMatchObject({ state: "running", try_number: 1, start_date: at(5), last_heartbeat: at(5), queued_at: at(5) });
      expect(c).toMatchObject({ hostname: "leader-1", pid: null, executor: "subprocess" });
      // Its agent's Register (the server's, for a warm agent) writes nothing and answers it running, with its run.
      const reg = await store.startTry({ ...start("c"), hostname: "worker-9", pid: 99 }, at(6));
      expect([reg!.applied, reg!.ti]).toEqual([false, c]);
      expect(reg!.run).toEqual((await store.getDagRunById(c.dag_run_id))!);
      expect(reg!.dagFileloc).toBe("/dags/etl.json");
      if (!w) return;
      const rows = (await store.listWebhookDeliveries("default", w.id)).items;
      expect(rows.map((d) => `${d.event.task_id} ${d.event.state}`).sort()).toEqual([
        "a running",
        "a success",
        "c queued",
        "c running",
        "c scheduled",
      ]);
    });

    test("a next task no longer waiting (a tick scheduled it) is left to the tick", async () => {
      const store = getStore();
      const { id, start, finish, next } = await queued(store);
      await store.applyTransitions([{ id: id("c"), from: ["none"], to: "scheduled" }], at(3));
      await store.startTry(start("a"), at(2));
      const res = await store.finishTry(finish("a", { next: next("c") }), at(5));
      expect([res!.applied, res!.nextApplied]).toEqual([true, false]);
      expect((await store.getTaskInstanceById(id("c")))!.state).toBe("scheduled");
    });
  });

  describe("appendTryLogs", () => {
    const lines = (...texts: string[]) => texts.map((line, i) => ({ timestamp: at(2 + i), stream: "stdout" as const, line }));

    test("stores the lines of a live try; a resend keeps the lines already there", async () => {
      const store = getStore();
      const { id, start } = await queued(store);
      expect(await store.appendTryLogs(start("a"), 0, lines("queued line"))).toBe(true);
      await store.startTry(start("a"), at(2));
      expect(await store.appendTryLogs(start("a"), 1, lines("one", "two"))).toBe(true);
      expect(await store.appendTryLogs(start("a"), 1, lines("ONE", "TWO", "three"))).toBe(true);
      expect((await store.readLogs(id("a"), 1)).map((l) => [l.seq, l.line])).toEqual([
        [0, "queued line"],
        [1, "one"],
        [2, "two"],
        [3, "three"],
      ]);
    });

    test("a batch longer than a log row holds reads back whole, and from a seq deep inside it", async () => {
      const store = getStore();
      const { id, start } = await queued(store);
      await store.startTry(start("a"), at(2));
      const texts = Array.from({ length: 1_200 }, (_, i) => `line ${i}`);
      expect(await store.appendTryLogs(start("a"), 0, lines(...texts))).toBe(true);
      expect((await store.readLogs(id("a"), 1)).map((l) => l.line)).toEqual(texts);
      expect((await store.readLogs(id("a"), 1, 1_100, 3)).map((l) => l.line)).toEqual(["line 1101", "line 1102", "line 1103"]);
    });

    test("stores nothing for a finished try, another try or task, or an unknown id", async () => {
      const store = getStore();
      const { id, start, finish } = await queued(store);
      await store.startTry(start("a"), at(2));
      expect(await store.appendTryLogs(start("a", { try_number: 2 }), 0, lines("x"))).toBe(false);
      expect(await store.appendTryLogs(start("a", { task_id: "b" }), 0, lines("x"))).toBe(false);
      expect(await store.appendTryLogs(start("a", { id: id("a") + 1000 }), 0, lines("x"))).toBe(false);
      await store.finishTry(finish("a"), at(3));
      expect(await store.appendTryLogs(start("a"), 0, lines("late"))).toBe(false);
      expect(await store.readLogs(id("a"), 1)).toEqual([]);
      expect(await store.readLogs(id("a"), 2)).toEqual([]);
    });
  });

  describe("pushTryXCom", () => {
    const key = (task_id: string, k = "return_value") => ({ team: "default", dag_id: "etl", run_id: "r1", task_id, key: k });

    test("stores a live try's value (queued or running) and replaces it; a value over the limit is refused", async () => {
      const store = getStore();
      const { start } = await queued(store);
      expect(await store.pushTryXCom(start("a"), key("a", "early"), { n: 1 }, at(2))).toBe(true);
      await store.startTry(start("a"), at(2));
      expect(await store.pushTryXCom(start("a"), key("a"), { n: 2 }, at(3))).toBe(true);
      expect(await store.pushTryXCom(start("a"), key("a"), { n: 3 }, at(4))).toBe(true);
      expect(await store.getXCom(key("a", "early"))).toMatchObject({ value: { n: 1 }, timestamp: at(2) });
      expect(await store.getXCom(key("a"))).toMatchObject({ value: { n: 3 }, timestamp: at(4) });
      await expect(store.pushTryXCom(start("a"), key("a", "big"), "x".repeat(2 * 1024 * 1024), at(5))).rejects.toThrow(/limit/);
      expect(await store.getXCom(key("a", "big"))).toBeNull();
    });

    test("stores nothing for a finished or cleared try, another try or task, or an unknown id", async () => {
      const store = getStore();
      const { id, start, finish } = await queued(store);
      await store.startTry(start("a"), at(2));
      await store.startTry(start("b"), at(2));
      expect(await store.pushTryXCom(start("a", { try_number: 2 }), key("a"), 1, at(3))).toBe(false);
      expect(await store.pushTryXCom(start("a", { task_id: "b" }), key("b"), 1, at(3))).toBe(false);
      expect(await store.pushTryXCom(start("a", { id: id("a") + 1000 }), key("a"), 1, at(3))).toBe(false);
      await store.finishTry(finish("a"), at(4));
      expect(await store.pushTryXCom(start("a"), key("a"), "late", at(5))).toBe(false);
      expect(await store.getXCom(key("a"))).toBeNull();
      // A clear deletes the task's XComs for its next try: the cleared try's push afterwards does not bring one back.
      const clear = { id: id("b"), from: "running" as const, from_try: 1, try_number: 2, max_tries: 0 };
      expect((await store.applyOperatorChange({ clears: [clear] }, at(6))).clears).toEqual([true]);
      expect(await store.pushTryXCom(start("b"), key("b"), "from the cleared try", at(7))).toBe(false);
      expect(await store.getXCom(key("b"))).toBeNull();
    });
  });
}
