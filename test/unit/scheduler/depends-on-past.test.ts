import { describe, expect, test } from "bun:test";
import { renderWaitReason, type TaskState, type WaitReason } from "../../../src/domain";
import type { DagSpec, PreviousRunStates, RunSnapshot } from "../../../src/domain";
import { loadPastBlocks, needsPreviousRun, pastBlocks, planRun, type PreviousRun } from "../../../src/scheduler";
import { T0, dag, moves, run, tis } from "./helpers";

const spec = dag([{ task_id: "load", depends_on_past: true }, { task_id: "report", upstream: ["load"] }, { task_id: "free" }]);
const prev = (states: Record<string, TaskState>): PreviousRun => ({
  run_id: "scheduled__2026-01-01",
  states: new Map(Object.entries(states)),
});
const scheduledRun = { ...run(), logical_date: new Date("2026-01-02T00:00:00Z") };

describe("pastBlocks", () => {
  test.each([
    ["the first run (no previous run) is not blocked", null, {}, []],
    ["previous success lets it go", prev({ load: "success" }), {}, []],
    ["previous skipped lets it go", prev({ load: "skipped" }), {}, []],
    ["previous failed blocks", prev({ load: "failed" }), {}, ["load"]],
    ["previous still running blocks", prev({ load: "running" }), {}, ["load"]],
    ["previous upstream_failed blocks", prev({ load: "upstream_failed" }), {}, ["load"]],
    ["the previous run lacked the task (added since): not blocked", prev({ free: "failed" }), {}, []],
    ["a task that already started is past the gate", prev({ load: "failed" }), { load: "running" }, []],
    ["tasks without depends_on_past are never blocked", prev({ load: "success", free: "failed", report: "failed" }), {}, []],
  ] as const)("%s", (_name, previous, current, blocked) => {
    expect([...pastBlocks(spec, tis(spec, current as Record<string, TaskState>), previous).keys()]).toEqual([...blocked]);
  });

  test("the reason names the task, the previous run and its state; its note says what to do", () => {
    const reason = pastBlocks(spec, tis(spec), prev({ load: "failed" })).get("load")!;
    expect(reason).toEqual({
      kind: "depends_on_past",
      task_id: "load",
      previous_run_id: "scheduled__2026-01-01",
      previous_state: "failed",
    });
    expect(renderWaitReason(reason)).toBe(
      "depends_on_past: waiting for load in the previous run scheduled__2026-01-01 (failed) to succeed or be skipped; " +
        "clear or mark that task instance to let this run go on",
    );
  });
});

describe("needsPreviousRun", () => {
  test.each([
    ["a run with a logical date and a pending depends_on_past task", scheduledRun, {}, true],
    ["no logical date (a manual run with logical_date null): no previous run in Airflow 3", run(), {}, false],
    ["the depends_on_past task already started", scheduledRun, { load: "running" }, false],
  ] as const)("%s", (_name, r, current, expected) => {
    expect(needsPreviousRun(r, tis(spec, current as Record<string, TaskState>), spec)).toBe(expected);
  });

  test("a DAG without depends_on_past never needs it", () => {
    const plain = dag([{ task_id: "a" }]);
    expect(needsPreviousRun(scheduledRun, tis(plain), plain)).toBe(false);
  });
});

describe("planRun with blockedByPast", () => {
  const past: WaitReason = { kind: "depends_on_past", task_id: "load", previous_run_id: "scheduled__2026-01-01", previous_state: "failed" };
  const note = renderWaitReason(past);
  const blockedByPast = new Map([["load", past]]);

  test("a blocked task stays none and gets its note and kind; others are scheduled", () => {
    const rows = tis(spec);
    const plan = planRun({ run: run(), tis: rows, spec, blockedByPast }, T0);
    expect(moves(plan.transitions, rows)).toEqual(["free:none->scheduled"]);
    expect(plan.notes).toEqual([{ id: 1, state: "none", note, wait_reason: "depends_on_past" }]);
  });

  test("the note is not written again when it is already there", () => {
    const rows = tis(spec, { load: { note, wait_reason: "depends_on_past" }, free: "success" });
    const plan = planRun({ run: run(), tis: rows, spec, blockedByPast }, T0);
    expect(plan.notes).toBeUndefined();
  });

  test("a run waiting only on its past is not a deadlock (Airflow waits for the previous run to be fixed)", () => {
    const rows = tis(spec, { free: "success" });
    const plan = planRun({ run: run(), tis: rows, spec, blockedByPast }, T0);
    expect(plan.run).toBeNull();
    expect(plan.transitions).toEqual([]);
  });

  test("once unblocked, it is scheduled and its depends_on_past note is cleared", () => {
    const rows = tis(spec, { load: { note, wait_reason: "depends_on_past" }, free: "success" });
    const plan = planRun({ run: run(), tis: rows, spec }, T0);
    expect(plan.transitions).toEqual([{ id: 1, from: ["none"], to: "scheduled", try_number: 1, patch: { note: null } }]);
  });

  test("a trigger-rule failure still cascades past the gate (upstream_failed is not held back)", () => {
    const chain = dag([{ task_id: "a" }, { task_id: "b", upstream: ["a"], depends_on_past: true }]);
    const rows = tis(chain, { a: "failed" });
    const plan = planRun({ run: run(), tis: rows, spec: chain, blockedByPast: new Map([["b", { ...past, task_id: "b" }]]) }, T0);
    expect(moves(plan.transitions, rows)).toEqual(["b:none->upstream_failed"]);
  });
});

describe("loadPastBlocks", () => {
  const plain = dag([{ task_id: "a" }, { task_id: "b", upstream: ["a"] }]);
  /** Runs 1…n of version `version`, each a day apart, every task in `none`. */
  const snaps = (n: number, version: number, of: DagSpec, from = 1): RunSnapshot[] =>
    Array.from({ length: n }, (_, i) => {
      const id = from + i;
      return {
        run: { ...scheduledRun, id, run_id: `scheduled__${id}`, version_id: version, logical_date: new Date(Date.UTC(2026, 0, id)) },
        tis: tis(of).map((t) => ({ ...t, id: id * 10 + t.id, dag_run_id: id })),
      };
    });
  const storeOf = (answer: (ids: number[]) => PreviousRunStates[]) => {
    const asked: number[][] = [];
    return {
      asked,
      store: { listPreviousRunStates: async (ids: number[]) => (asked.push(ids), answer(ids)) },
    };
  };

  test("asks for each DAG version's spec once, however many runs it has (a first sweep: 10,000 runs of one version)", async () => {
    const calls: number[] = [];
    const specFor = async (v: number) => (calls.push(v), v === 7 ? spec : plain);
    const failed = { run_id: "scheduled__2026-01-01", states: new Map([["load", "failed" as const]]) };
    const { store, asked } = storeOf((ids) => ids.map((id) => ({ dag_run_id: id, previous: failed })));
    const blocks = await loadPastBlocks(store, [...snaps(50, 7, spec), ...snaps(50, 8, plain, 51)], specFor);
    expect(calls.sort()).toEqual([7, 8]);
    // Only the version with depends_on_past needs its previous runs, and every such run is blocked.
    expect(asked).toEqual([Array.from({ length: 50 }, (_, i) => i + 1)]);
    expect([...blocks.keys()]).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect([...blocks.get(1)!.keys()]).toEqual(["load"]);
  });

  test("runs whose spec cannot be loaded are skipped (planning reports that error); no depends_on_past: no store read", async () => {
    const { store, asked } = storeOf(() => []);
    const specFor = async (v: number) => {
      if (v === 7) throw new Error("version 7 is missing");
      return plain;
    };
    expect((await loadPastBlocks(store, [...snaps(3, 7, spec), ...snaps(3, 8, plain, 4)], specFor)).size).toBe(0);
    expect(asked).toEqual([]);
  });
});
