/**
 * Store contract for the batched and cached paths of issue 18: many tries' log lines in one appendLogBatches
 * (what a reader sees afterwards is exactly what one write per task would have left), and run gates that keep
 * each DAG version's max_active_runs instead of reading it from the spec every tick.
 */
import { describe, expect, test } from "bun:test";
import { parseDagSpec } from "../../src/domain/schemas";
import type { Store } from "../../src/store";
import { newRun, runOfBashTasks, T0 } from "./contract-fixtures";

const at = (s: number) => new Date(T0.getTime() + s * 1000);
const line = (s: number, text: string, stream: "stdout" | "stderr" = "stdout") => ({ timestamp: at(s), stream, line: text });

async function twoTasks(store: Store) {
  return (await runOfBashTasks(store, "pair", ["a", "b"])).tis;
}

export function inlineBatchesContract(getStore: () => Store): void {
  describe("batched inline writes and cached run gates", () => {
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
