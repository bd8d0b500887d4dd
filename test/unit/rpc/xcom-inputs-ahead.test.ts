/**
 * XCom inputs read ahead for a chain's next try (rpc/xcom-inputs.ts): claimed once, by that try only, within
 * their time; a read that failed is read again by the spec that claims it. The store is a double counting reads.
 */
import { expect, test } from "bun:test";
import { XComInputsAhead } from "../../../src/rpc/xcom-inputs";
import type { XComKey, XComPullPort, XComRecord } from "../../../src/domain";

const spec = {
  tasks: [
    { task_id: "extract", upstream: [] },
    { task_id: "load", upstream: ["extract"], inputs: { rows: "extract:count" } },
  ],
} as never;
const run = { team: "default", dag_id: "etl", run_id: "r1" };
const load = { id: 7, try_number: 1, task_id: "load" };

/** A store double: each XCom's value is its key; `fail` makes the next read throw. */
function readsCounted() {
  const reads: string[] = [];
  let fail = false;
  const store: XComPullPort = {
    getXCom: async (key: XComKey) => {
      reads.push(`${key.task_id}:${key.key}`);
      if (fail) throw new Error("connection reset");
      return { value: `${key.task_id}:${key.key}` } as XComRecord;
    },
    listMappedXComs: async () => [],
  };
  return { store, reads, failNext: () => (fail = true) };
}

test("the inputs read ahead are the try's: each upstream's return value and its named inputs, as JSON", async () => {
  const { store, reads } = readsCounted();
  const ahead = new XComInputsAhead(store);
  ahead.start({ ti: load, run, spec });
  expect(reads.sort()).toEqual(["extract:count", "extract:return_value"]);
  expect(await ahead.take(load)).toEqual({ EXTRACT: '"extract:return_value"', ROWS: '"extract:count"' });
});

test("claimed once, and only by the same try", async () => {
  const { store } = readsCounted();
  const ahead = new XComInputsAhead(store);
  ahead.start({ ti: load, run, spec });
  expect(ahead.take({ id: 7, try_number: 2 })).toBeUndefined();
  expect(ahead.take({ id: 8, try_number: 1 })).toBeUndefined();
  expect(ahead.take(load)).toBeDefined();
  expect(ahead.take(load)).toBeUndefined();
});

test("a read older than 10 s is not answered", () => {
  const { store } = readsCounted();
  let now = 1_000;
  const ahead = new XComInputsAhead(store, () => now);
  ahead.start({ ti: load, run, spec });
  now += 10_001;
  expect(ahead.take(load)).toBeUndefined();
});

test("a failed read rejects its claim (the spec then reads again) and is never an unhandled rejection", async () => {
  const { store, failNext } = readsCounted();
  failNext();
  const ahead = new XComInputsAhead(store);
  ahead.start({ ti: load, run, spec });
  await Bun.sleep(1); // an unhandled rejection would fail the test here
  await expect(ahead.take(load)!).rejects.toThrow("connection reset");
});

test("a task the DAG version does not have reads nothing", () => {
  const { store, reads } = readsCounted();
  const ahead = new XComInputsAhead(store);
  ahead.start({ ti: { ...load, task_id: "gone" }, run, spec });
  expect(reads).toEqual([]);
  expect(ahead.take(load)).toBeUndefined();
});
