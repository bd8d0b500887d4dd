/** A DAG version's tasks looked up by id, and each task's downstream, from indexes built once per spec. */
import { expect, test } from "bun:test";
import { downstreamOfSpec, taskOfSpec } from "../../../src/domain";

const spec = {
  tasks: [
    { task_id: "extract", upstream: [] },
    { task_id: "clean", upstream: ["extract"] },
    { task_id: "load", upstream: ["clean", "extract", "extract"] },
    { task_id: "report", upstream: ["load", "gone"] },
  ],
} as never;

test("a task by id; none for an unknown id", () => {
  expect(taskOfSpec(spec, "load")).toMatchObject({ task_id: "load" });
  expect(taskOfSpec(spec, "nope")).toBeUndefined();
});

test("each task's downstream in the DAG's task order, an edge named twice once; none for a leaf or an unknown id", () => {
  expect(downstreamOfSpec(spec, "extract")).toEqual(["clean", "load"]);
  expect(downstreamOfSpec(spec, "clean")).toEqual(["load"]);
  expect(downstreamOfSpec(spec, "load")).toEqual(["report"]);
  expect(downstreamOfSpec(spec, "report")).toEqual([]);
  expect(downstreamOfSpec(spec, "gone")).toEqual([]);
});

test("a chain of 10,000 tasks: each task's downstream is the next one", () => {
  const chain = { tasks: Array.from({ length: 10_000 }, (_, i) => ({ task_id: `t${i}`, upstream: i ? [`t${i - 1}`] : [] })) } as never;
  const all = Array.from({ length: 10_000 }, (_, i) => downstreamOfSpec(chain, `t${i}`));
  expect(all[0]).toEqual(["t1"]);
  expect(all[9_999]).toEqual([]);
  expect(all.reduce((n, d) => n + d.length, 0)).toBe(9_999);
});
