/**
 * Store contract for finishInlineTries (the end of inline tries as one write): each try's XCom, lines and
 * outcome land together, with the outbox rows of the transition; an XCom the store refuses is not stored and
 * fails its try with the refusal as the note (never a success without its XCom); a try whose outcome loses
 * its race (a clear or a mark won) still leaves its lines and XCom, as the separate writes did; an illegal
 * transition writes nothing.
 */
import { describe, expect, test } from "bun:test";
import { IllegalTransitionError, ValidationError, type TaskTransition, type WebhookInput } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import type { InlineTryEnd, Store } from "../../src/store";
import { newRun, runTask, T0 } from "./contract-fixtures";

const at = (s: number) => new Date(T0.getTime() + s * 1000);
const key = (task_id: string) => ({ team: "default", dag_id: "web", run_id: "r1", task_id, key: "return_value" });
const line = (s: number, text: string) => ({ timestamp: at(s), stream: "stdout" as const, line: text });
const hook: WebhookInput = {
  url: "http://127.0.0.1:9/hook",
  event_types: ["task_instance.state_changed"],
  secret: "0123456789abcdef",
};

/** Three task instances of one run; `running` of them moved to running in try 1. */
async function tries(store: Store, running: string[]) {
  const ids = ["a", "b", "c"];
  const dag = await store.upsertDag("default", {
    spec: parseDagSpec({ dag_id: "web", tasks: ids.map((task_id) => ({ task_id, operator: "http", http: { url: "http://x.test" } })) }),
    fileloc: "/dags/web.json",
    pausedOnCreate: false,
    now: T0,
  });
  const tasks = ids.map((task_id) => runTask(task_id, { operator: "http" }));
  await store.createDagRun(newRun(dag, "r1", { tasks }));
  const tis = (await store.listTaskInstances("default", "web", "r1")).items;
  const byTask = new Map(tis.map((ti) => [ti.task_id, ti]));
  const start = running.map((t) => byTask.get(t)!.id);
  await store.applyTransitions(
    start.flatMap((id): TaskTransition[] => [
      { id, from: ["none"], to: "scheduled" },
      { id, from: ["scheduled"], to: "running", patch: { try_number: 1, start_date: at(1) } },
    ]),
    at(1),
  );
  return (task: string) => byTask.get(task)!.id;
}

const end = (id: number, task: string, value: unknown, lines: string[]): InlineTryEnd => ({
  transition: { id, from: ["running"], to: "success", try_number: 1, patch: { end_date: at(5), note: null } },
  lines: lines.length ? { ti_id: id, try_number: 1, first_seq: 1, lines: lines.map((l, i) => line(2 + i, l)) } : null,
  xcom: value === undefined ? null : { key: key(task), value },
});

export function inlineTriesContract(getStore: () => Store): void {
  describe("finishInlineTries", () => {
    test("XComs, lines and outcomes land together; a refused XCom fails its try with the reason and is not stored", async () => {
      const store = getStore();
      const id = await tries(store, ["a", "b", "c"]);
      const big = "x".repeat(1024 * 1024);
      const results = await store.finishInlineTries(
        [end(id("a"), "a", { rows: 2 }, ["a1", "a2"]), end(id("b"), "b", big, ["b1"]), end(id("c"), "c", undefined, [])],
        at(5),
      );
      expect(results.map((r) => r.applied)).toEqual([true, true, true]);
      expect(results[0]!.refused).toBeNull();
      const tooLarge = "XCom return_value of task b is 1048578 bytes; the limit is 1048576 bytes (--xcom-max-bytes)";
      expect(results[1]!.refused!.message).toBe(tooLarge);
      expect(results[2]!.refused).toBeNull();
      expect(await store.getTaskInstanceById(id("a"))).toMatchObject({ state: "success", end_date: at(5), note: null });
      expect(await store.getTaskInstanceById(id("b"))).toMatchObject({ state: "failed", end_date: at(5), note: tooLarge });
      expect(await store.getTaskInstanceById(id("c"))).toMatchObject({ state: "success" });
      expect((await store.getXCom(key("a")))!).toMatchObject({ value: { rows: 2 }, timestamp: at(5) });
      expect(await store.getXCom(key("b"))).toBeNull();
      expect(await store.getXCom(key("c"))).toBeNull();
      expect((await store.readLogs(id("a"), 1)).map((l) => [l.seq, l.line])).toEqual([
        [1, "a1"],
        [2, "a2"],
      ]);
      expect((await store.readLogs(id("b"), 1)).map((l) => l.line)).toEqual(["b1"]);
    });

    test("an XCom no store can hold (a NUL in its text) fails its try with the reason; the other ends of the batch land", async () => {
      const store = getStore();
      const id = await tries(store, ["a", "b"]);
      const [bad, good] = await store.finishInlineTries([end(id("a"), "a", { s: "a\u0000b" }, []), end(id("b"), "b", 2, [])], at(5));
      expect(bad!.applied).toBe(true);
      expect(bad!.refused).toBeInstanceOf(ValidationError);
      expect(bad!.refused!.message).toStartWith("XCom return_value of task a cannot be stored: ");
      expect(await store.getTaskInstanceById(id("a"))).toMatchObject({ state: "failed", note: bad!.refused!.message });
      expect(await store.getXCom(key("a"))).toBeNull();
      expect(good).toEqual({ applied: true, refused: null, nextApplied: false });
      expect((await store.getXCom(key("b")))!.value).toBe(2);
    });

    test("a refused XCom of a try with retries left writes it up_for_retry (its failedAs), not failed", async () => {
      const store = getStore();
      const id = await tries(store, ["a"]);
      const [r] = await store.finishInlineTries([{ ...end(id("a"), "a", "x".repeat(1024 * 1024), []), failedAs: "up_for_retry" }], at(5));
      expect(r!.applied).toBe(true);
      expect(await store.getTaskInstanceById(id("a"))).toMatchObject({ state: "up_for_retry", end_date: at(5), note: r!.refused!.message });
    });

    test("an outcome that loses its race changes no state and stores no XCom; its lines are still kept", async () => {
      const store = getStore();
      const id = await tries(store, ["a"]);
      const [won, lost] = await store.finishInlineTries([end(id("a"), "a", 1, ["a1"]), end(id("b"), "b", 2, ["b1"])], at(5));
      expect(won).toEqual({ applied: true, refused: null, nextApplied: false });
      expect(lost).toEqual({ applied: false, refused: null, nextApplied: false });
      expect((await store.getTaskInstanceById(id("b")))!.state).toBe("none");
      expect((await store.getXCom(key("a")))!.value).toBe(1);
      expect(await store.getXCom(key("b"))).toBeNull();
      expect((await store.readLogs(id("b"), 1)).map((l) => l.line)).toEqual(["b1"]);
    });

    test("a try cleared while it ran does not bring back its XCom when it ends; the next try's value stands", async () => {
      const store = getStore();
      const id = await tries(store, ["a"]);
      // The clear deletes the task's XComs so that its next try does not read them.
      await store.setXCom(key("a"), "pushed by try 1", at(2));
      const clear = { id: id("a"), from: "running" as const, from_try: 1, try_number: 2, max_tries: 0 };
      expect(await store.applyOperatorChange({ clears: [clear] }, at(3))).toMatchObject({ clears: [true] });
      expect(await store.getXCom(key("a"))).toBeNull();
      // Try 1's request comes back after the clear: its end loses, and its value must not land.
      const [late] = await store.finishInlineTries([end(id("a"), "a", "late value of try 1", [])], at(4));
      expect(late!.applied).toBe(false);
      expect(await store.getXCom(key("a"))).toBeNull();
      // Try 2 runs and ends with its own value; a second late end of try 1 does not overwrite it.
      await store.applyTransitions(
        [
          { id: id("a"), from: ["none"], to: "scheduled" },
          { id: id("a"), from: ["scheduled"], to: "running", patch: { start_date: at(6) } },
        ],
        at(6),
      );
      const second = { ...end(id("a"), "a", "try 2", []), transition: { ...end(id("a"), "a", "try 2", []).transition, try_number: 2 } };
      expect((await store.finishInlineTries([second], at(7)))[0]!.applied).toBe(true);
      expect((await store.finishInlineTries([end(id("a"), "a", "late value of try 1", [])], at(8)))[0]!.applied).toBe(false);
      expect((await store.getXCom(key("a")))!.value).toBe("try 2");
    });

    test("a try whose run was deleted while it ran leaves the other ends of its batch alone; its lines go nowhere", async () => {
      const store = getStore();
      const id = await tries(store, ["a"]);
      // A second run of the DAG, its task a running too; then a user deletes it (DELETE …/dagRuns/r2).
      const dag = await store.upsertDag("default", {
        spec: parseDagSpec({
          dag_id: "web",
          tasks: ["a", "b", "c"].map((task_id) => ({ task_id, operator: "http", http: { url: "http://x.test" } })),
        }),
        fileloc: "/dags/web.json",
        pausedOnCreate: false,
        now: T0,
      });
      await store.createDagRun(newRun(dag, "r2", { tasks: ["a", "b", "c"].map((task_id) => runTask(task_id, { operator: "http" })) }));
      const gone = (await store.listTaskInstances("default", "web", "r2")).items.find((ti) => ti.task_id === "a")!.id;
      await store.applyTransitions(
        [
          { id: gone, from: ["none"], to: "scheduled" },
          { id: gone, from: ["scheduled"], to: "running", patch: { try_number: 1, start_date: at(1) } },
        ],
        at(1),
      );
      expect(await store.deleteDagRun("default", "web", "r2")).toBe(true);
      const results = await store.finishInlineTries([end(gone, "a", 9, ["gone1"]), end(id("a"), "a", 1, ["a1"])], at(5));
      expect(results.map((r) => r.applied)).toEqual([false, true]);
      expect(await store.getTaskInstanceById(gone)).toBeNull();
      expect(await store.readLogs(gone, 1)).toEqual([]);
      expect((await store.getTaskInstanceById(id("a")))!.state).toBe("success");
      expect((await store.readLogs(id("a"), 1)).map((l) => l.line)).toEqual(["a1"]);
      // The same for lines written on their own (the runner's periodic flush of many tries' lines).
      await store.appendLogBatches([
        { ti_id: gone, try_number: 1, first_seq: 2, lines: [line(6, "gone2")] },
        { ti_id: id("a"), try_number: 1, first_seq: 2, lines: [line(6, "a2")] },
      ]);
      expect((await store.readLogs(id("a"), 1)).map((l) => l.line)).toEqual(["a1", "a2"]);
    });

    test("the outcomes that apply write their outbox rows, a refused XCom's as failed", async () => {
      const store = getStore();
      const id = await tries(store, ["a", "b"]);
      const w = await store.createWebhook("default", hook, at(0));
      await store.finishInlineTries(
        [end(id("a"), "a", 1, ["a1"]), end(id("b"), "b", "x".repeat(1024 * 1024), []), end(id("c"), "c", 3, [])],
        at(5),
      );
      const rows = (await store.listWebhookDeliveries("default", w.id)).items.reverse();
      expect(rows.map((d) => [d.event.task_id, d.event.state])).toEqual([
        ["a", "success"],
        ["b", "failed"],
      ]);
      expect((await store.getXCom(key("a")))!.value).toBe(1);
      expect((await store.readLogs(id("a"), 1)).map((l) => l.line)).toEqual(["a1"]);
    });

    test("an end's next start applies with it, and only when the end applies", async () => {
      const store = getStore();
      const id = await tries(store, ["a"]);
      // c waits scheduled for a slot; b never started, so its "end" loses and its next (c) must not start.
      await store.applyTransitions([{ id: id("c"), from: ["none"], to: "scheduled" }], at(2));
      const start = (task: string): TaskTransition => ({
        id: id(task),
        from: ["scheduled"],
        to: "running",
        try_number: 1,
        patch: { try_number: 1, start_date: at(5), hostname: "inline" },
      });
      const [lost] = await store.finishInlineTries([{ ...end(id("b"), "b", undefined, []), next: start("c") }], at(5));
      expect(lost).toEqual({ applied: false, refused: null, nextApplied: false });
      expect((await store.getTaskInstanceById(id("c")))!.state).toBe("scheduled");
      const [won] = await store.finishInlineTries([{ ...end(id("a"), "a", 1, ["a1"]), next: start("c") }], at(6));
      expect(won).toEqual({ applied: true, refused: null, nextApplied: true });
      expect(await store.getTaskInstanceById(id("a"))).toMatchObject({ state: "success", end_date: at(5) });
      expect(await store.getTaskInstanceById(id("c"))).toMatchObject({ state: "running", start_date: at(5), hostname: "inline" });
      expect((await store.getXCom(key("a")))!.value).toBe(1);
    });

    test("a next whose task moved on does not apply, and its end still does", async () => {
      const store = getStore();
      const id = await tries(store, ["a", "b"]);
      const next: TaskTransition = { id: id("c"), from: ["scheduled"], to: "running", try_number: 1 };
      const results = await store.finishInlineTries(
        [
          { ...end(id("a"), "a", undefined, []), next },
          { ...end(id("b"), "b", undefined, []), transition: { ...end(id("b"), "b", undefined, []).transition, to: "failed" } },
        ],
        at(5),
      );
      expect(results.map((r) => [r.applied, r.nextApplied])).toEqual([
        [true, false],
        [true, false],
      ]);
      expect((await store.getTaskInstanceById(id("c")))!.state).toBe("none");
    });

    test("with task-event webhooks, an end and its next start each write their outbox row", async () => {
      const store = getStore();
      const id = await tries(store, ["a"]);
      await store.applyTransitions([{ id: id("c"), from: ["none"], to: "scheduled" }], at(2));
      const w = await store.createWebhook("default", hook, at(0));
      const next: TaskTransition = { id: id("c"), from: ["scheduled"], to: "running", try_number: 1, patch: { start_date: at(5) } };
      const [r] = await store.finishInlineTries([{ ...end(id("a"), "a", 1, []), next }], at(5));
      expect(r).toEqual({ applied: true, refused: null, nextApplied: true });
      const rows = (await store.listWebhookDeliveries("default", w.id)).items.reverse();
      expect(rows.map((d) => [d.event.task_id, d.event.state])).toEqual([
        ["a", "success"],
        ["c", "running"],
      ]);
    });

    test.each([false, true])("a chain's next task starts with its upstream's success, not its failure (webhook: %p)", async (webhook) => {
      const store = getStore();
      if (webhook) await store.createWebhook("default", hook, at(0));
      const id = await tries(store, ["a", "b"]);
      const handOver = (task: string) => ({
        nextScheduling: { id: id(task), from: ["none" as const], to: "scheduled" as const },
        next: { id: id(task), from: ["scheduled" as const], to: "running" as const, try_number: 1, patch: { start_date: at(5) } },
        nextAfterSuccess: true,
      });
      // b's XCom is refused: b fails, so its next (c) must not start; a succeeds and hands over to c.
      const [refused] = await store.finishInlineTries([{ ...end(id("b"), "b", "x".repeat(1024 * 1024), []), ...handOver("c") }], at(5));
      expect([refused!.applied, refused!.nextApplied]).toEqual([true, false]);
      expect((await store.getTaskInstanceById(id("c")))!.state).toBe("none");
      const [won] = await store.finishInlineTries([{ ...end(id("a"), "a", 1, []), ...handOver("c") }], at(6));
      expect([won!.applied, won!.nextApplied]).toEqual([true, true]);
      expect(await store.getTaskInstanceById(id("c"))).toMatchObject({ state: "running", start_date: at(5), try_number: 1 });
      // Started already: a second hand-over of c changes nothing.
      const again = await store.finishInlineTries([{ ...end(id("a"), "a", 1, []), ...handOver("c") }], at(7));
      expect(again[0]!.nextApplied).toBe(false);
    });

    test("an illegal transition writes nothing of the batch", async () => {
      const store = getStore();
      const id = await tries(store, ["a"]);
      const illegal = { ...end(id("b"), "b", 2, ["b1"]), transition: { id: id("b"), from: ["success" as const], to: "running" as const } };
      await expect(store.finishInlineTries([end(id("a"), "a", 1, ["a1"]), illegal], at(5))).rejects.toBeInstanceOf(IllegalTransitionError);
      expect((await store.getTaskInstanceById(id("a")))!.state).toBe("running");
      expect(await store.getXCom(key("a"))).toBeNull();
      expect(await store.readLogs(id("a"), 1)).toEqual([]);
    });
  });
}
