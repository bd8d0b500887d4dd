/**
 * Store contract for the batched and cached paths of issue 18: many tasks' XComs in one setXComs, many tries'
 * log lines in one appendLogBatches (what a reader sees afterwards is exactly what one write per task would
 * have left; a value the store refuses is refused alone, with the error setXCom gives), and run gates that
 * keep each DAG version's max_active_runs instead of reading it from the spec every tick.
 */
import { describe, expect, test } from "bun:test";
import { TooLargeError, ValidationError } from "../../src/domain";
import { parseDagSpec } from "../../src/domain/schemas";
import type { Store } from "../../src/store";
import { newRun, runOfBashTasks, T0 } from "./contract-fixtures";

const at = (s: number) => new Date(T0.getTime() + s * 1000);
const key = (task_id: string, k = "return_value") => ({ team: "default", dag_id: "etl", run_id: "r", task_id, key: k });
const line = (s: number, text: string, stream: "stdout" | "stderr" = "stdout") => ({ timestamp: at(s), stream, line: text });

async function twoTasks(store: Store) {
  return (await runOfBashTasks(store, "pair", ["a", "b"])).tis;
}

export function inlineBatchesContract(getStore: () => Store): void {
  describe("batched inline writes and cached run gates", () => {
    test("setXComs stores every value of the batch; the same key twice keeps the last; existing values are replaced", async () => {
      const store = getStore();
      await store.setXCom(key("c"), "old", T0);
      const errors = await store.setXComs(
        [
          { key: key("a"), value: { rows: 1 } },
          { key: key("b"), value: "first" },
          { key: key("b"), value: "second" },
          { key: key("c"), value: [1, 2] },
        ],
        at(5),
      );
      expect(errors).toEqual([null, null, null, null]);
      expect((await store.getXCom(key("a")))!).toMatchObject({ value: { rows: 1 }, timestamp: at(5), map_index: -1 });
      expect((await store.getXCom(key("b")))!.value).toBe("second");
      expect((await store.getXCom(key("c")))!).toMatchObject({ value: [1, 2], timestamp: at(5) });
      expect(await store.setXComs([], at(6))).toEqual([]);
    });

    test("a value the store refuses gets setXCom's own error and is not stored; the rest of the batch is", async () => {
      const store = getStore();
      const big = "x".repeat(1024 * 1024);
      const errors = await store.setXComs(
        [
          { key: key("a"), value: 1 },
          { key: key("big"), value: big },
          { key: key("nul"), value: { s: "a\u0000b" } },
          { key: key("b"), value: 2 },
        ],
        T0,
      );
      expect(errors[0]).toBeNull();
      expect(errors[1]).toBeInstanceOf(TooLargeError);
      expect(errors[1]!.message).toBe("XCom return_value of task big is 1048578 bytes; the limit is 1048576 bytes (--xcom-max-bytes)");
      expect(errors[2]).toBeInstanceOf(ValidationError);
      expect(errors[3]).toBeNull();
      expect(await store.getXCom(key("big"))).toBeNull();
      expect(await store.getXCom(key("nul"))).toBeNull();
      expect((await store.getXCom(key("a")))!.value).toBe(1);
      expect((await store.getXCom(key("b")))!.value).toBe(2);
    });

    test("loadRunGates: a DAG's new version brings its max_active_runs at once", async () => {
      const store = getStore();
      const upsert = (max: number) =>
        store.upsertDag("default", {
          spec: parseDagSpec({ dag_id: "gated", max_active_runs: max, tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }] }),
          fileloc: "/dags/gated.json",
          pausedOnCreate: false,
          now: T0,
        });
      const run = await store.createDagRun(newRun(await upsert(2), "r1"));
      expect((await store.loadRunGates([run.id])).dags.get("default/gated")?.max_active_runs).toBe(2);
      await upsert(5);
      expect((await store.loadRunGates([run.id])).dags.get("default/gated")?.max_active_runs).toBe(5);
    });

    test("appendLogBatches stores each try's lines at its own seqs; a resent batch changes nothing", async () => {
      const store = getStore();
      const [a, b] = await twoTasks(store);
      const batches = [
        { ti_id: a!.id, try_number: 1, first_seq: 0, lines: [line(1, "a0"), line(2, "a1", "stderr")] },
        { ti_id: b!.id, try_number: 2, first_seq: 3, lines: [line(3, "b3")] },
        { ti_id: a!.id, try_number: 1, first_seq: 2, lines: [line(4, "a2")] },
        { ti_id: b!.id, try_number: 1, first_seq: 0, lines: [] },
      ];
      await store.appendLogBatches(batches);
      await store.appendLogBatches(batches);
      expect(await store.readLogs(a!.id, 1)).toEqual([
        { seq: 0, timestamp: at(1), stream: "stdout", line: "a0" },
        { seq: 1, timestamp: at(2), stream: "stderr", line: "a1" },
        { seq: 2, timestamp: at(4), stream: "stdout", line: "a2" },
      ]);
      expect(await store.readLogs(b!.id, 2)).toEqual([{ seq: 3, timestamp: at(3), stream: "stdout", line: "b3" }]);
      expect(await store.readLogs(b!.id, 1)).toEqual([]);
      await store.appendLogBatches([]);
    });
  });
}
