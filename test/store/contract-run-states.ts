/**
 * Store contract for setDagRunStates (issue 18): the scheduler moves many runs in one batch. Each change is
 * conditional on the run's current state, as setDagRunState is: start_date kept once set, end_date set on a
 * terminal state and cleared on running, a note written only when given; a lost race changes nothing. A run the
 * scheduler ends straight from queued (its tasks all ended in its first plan, or none can ever start) gets its
 * start_date then too: Airflow's scheduler starts every run before it ends it.
 */
import { describe, expect, test } from "bun:test";
import { parseDagSpec } from "../../src/domain/schemas";
import type { Store } from "../../src/store";
import { newRun, T0 } from "./contract-fixtures";

const at = (s: number) => new Date(T0.getTime() + s * 1000);

async function runs(store: Store, n: number) {
  const dag = await store.upsertDag("default", {
    spec: parseDagSpec({ dag_id: "batch", tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }] }),
    fileloc: "/dags/batch.json",
    pausedOnCreate: false,
    now: T0,
  });
  const out = [];
  for (let i = 0; i < n; i++) out.push(await store.createDagRun(newRun(dag, `r${i}`)));
  return out;
}

export function runStatesContract(getStore: () => Store): void {
  describe("setDagRunStates", () => {
    test("applies each change whose run is in an allowed state, and says which applied", async () => {
      const store = getStore();
      const [a, b, c] = await runs(store, 3);
      await store.setDagRunState(c!.id, ["queued"], "running", at(1));
      const applied = await store.setDagRunStates(
        [
          { id: a!.id, from: ["queued"], to: "running" },
          { id: b!.id, from: ["queued"], to: "failed", note: "run timed out" },
          { id: c!.id, from: ["queued"], to: "running" }, // already running: a lost race
          { id: 999_999, from: ["queued"], to: "running" }, // no such run
        ],
        at(5),
      );
      expect(applied).toEqual([true, true, false, false]);
      const [ra, rb, rc] = await Promise.all([a, b, c].map((r) => store.getDagRunById(r!.id)));
      expect(ra).toMatchObject({ state: "running", start_date: at(5), end_date: null, note: null });
      expect(rb).toMatchObject({ state: "failed", start_date: at(5), end_date: at(5), note: "run timed out" });
      expect(rc).toMatchObject({ state: "running", start_date: at(1) });
    });

    test("a run named twice sees its first change; start_date set once is kept", async () => {
      const store = getStore();
      const [a] = await runs(store, 1);
      await store.setDagRunState(a!.id, ["queued"], "running", at(1));
      await store.setDagRunState(a!.id, ["running"], "queued", at(2));
      const applied = await store.setDagRunStates(
        [
          { id: a!.id, from: ["queued"], to: "running" },
          { id: a!.id, from: ["running"], to: "success" },
        ],
        at(9),
      );
      expect(applied).toEqual([true, true]);
      expect(await store.getDagRunById(a!.id)).toMatchObject({ state: "success", start_date: at(1), end_date: at(9) });
    });

    test("changes of every kind in one batch (from-lists, targets, notes, a run named twice) each apply as setDagRunState would", async () => {
      const store = getStore();
      const [a, b, c, d, e, f] = await runs(store, 6);
      await store.setDagRunState(c!.id, ["queued"], "running", at(1));
      await store.setDagRunState(c!.id, ["running"], "failed", at(2));
      const applied = await store.setDagRunStates(
        [
          { id: a!.id, from: ["queued"], to: "running" },
          { id: b!.id, from: ["queued"], to: "running" },
          { id: c!.id, from: ["failed", "success"], to: "queued" }, // cleared: end_date goes, start_date stays
          { id: d!.id, from: ["queued"], to: "failed", note: "deadlock" },
          { id: e!.id, from: ["queued", "running"], to: "success" },
          { id: f!.id, from: ["running"], to: "running" }, // f is queued: not applied
          { id: a!.id, from: ["running"], to: "success" }, // a again: sees its first change
        ],
        at(5),
      );
      expect(applied).toEqual([true, true, true, true, true, false, true]);
      const [ra, rb, rc, rd, re, rf] = await Promise.all([a, b, c, d, e, f].map((r) => store.getDagRunById(r!.id)));
      expect(ra).toMatchObject({ state: "success", start_date: at(5), end_date: at(5), note: null });
      expect(rb).toMatchObject({ state: "running", start_date: at(5), end_date: null, note: null });
      expect(rc).toMatchObject({ state: "queued", start_date: at(1), end_date: null, note: null });
      expect(rd).toMatchObject({ state: "failed", start_date: at(5), end_date: at(5), note: "deadlock" });
      expect(re).toMatchObject({ state: "success", start_date: at(5), end_date: at(5), note: null });
      expect(rf).toMatchObject({ state: "queued", start_date: null, end_date: null });
    });

    test("a large batch of equal changes (a first sweep starting its queued runs) applies each as setDagRunState would", async () => {
      const store = getStore();
      // 201 runs: 130 to start (10 already running: lost races), 70 to fail with one note, one other change.
      const all = await runs(store, 201);
      for (const r of all.slice(0, 10)) await store.setDagRunState(r.id, ["queued"], "running", at(1));
      const start = all.slice(0, 130).map((r) => ({ id: r.id, from: ["queued" as const], to: "running" as const }));
      const fail = all.slice(130, 200).map((r) => ({ id: r.id, from: ["queued" as const], to: "failed" as const, note: "deadlock" }));
      const other = { id: all[200]!.id, from: ["queued" as const], to: "success" as const };
      // Interleaved, as a tick's runs come: the answer follows the input order.
      const batch = [
        ...start.slice(0, 65),
        ...fail.slice(0, 35),
        other,
        ...start.slice(65),
        ...fail.slice(35),
        { id: 999_999, from: ["queued" as const], to: "running" as const },
      ];
      const applied = await store.setDagRunStates(batch, at(5));
      expect(applied).toEqual(batch.map((c) => c.id !== 999_999 && !all.slice(0, 10).some((r) => r.id === c.id)));
      const rows = await Promise.all(all.map((r) => store.getDagRunById(r.id)));
      expect(rows.slice(0, 10).every((r) => r?.state === "running" && r.start_date?.getTime() === at(1).getTime())).toBe(true);
      for (const r of rows.slice(10, 130)) expect(r).toMatchObject({ state: "running", start_date: at(5), end_date: null, note: null });
      for (const r of rows.slice(130, 200))
        expect(r).toMatchObject({ state: "failed", start_date: at(5), end_date: at(5), note: "deadlock" });
      expect(rows[200]).toMatchObject({ state: "success", start_date: at(5), end_date: at(5), note: null });
    });

    test("a large batch that names a run twice still lets its second change see the first", async () => {
      const store = getStore();
      const all = await runs(store, 80);
      const batch = [
        ...all.map((r) => ({ id: r.id, from: ["queued" as const], to: "running" as const })),
        { id: all[0]!.id, from: ["running" as const], to: "success" as const },
      ];
      expect(await store.setDagRunStates(batch, at(5))).toEqual(batch.map(() => true));
      expect(await store.getDagRunById(all[0]!.id)).toMatchObject({ state: "success", start_date: at(5), end_date: at(5) });
      expect(await store.getDagRunById(all[79]!.id)).toMatchObject({ state: "running", start_date: at(5), end_date: null });
    });

    test("an empty batch or empty from-list changes nothing", async () => {
      const store = getStore();
      const [a] = await runs(store, 1);
      expect(await store.setDagRunStates([], at(1))).toEqual([]);
      expect(await store.setDagRunStates([{ id: a!.id, from: [], to: "running" }], at(1))).toEqual([false]);
      expect(await store.getDagRunById(a!.id)).toMatchObject({ state: "queued", start_date: null });
    });
  });
}
