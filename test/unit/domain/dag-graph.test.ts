/**
 * checkGraph (dag-spec.ts): unknown upstreams and cycles, for DAGs of any depth. A chain of 50,000 tasks declared
 * leaf first overflowed the call stack of the recursive cycle search; the walk keeps its own stack now.
 */
import { describe, expect, test } from "bun:test";
import { checkGraph } from "../../../src/domain/dag-spec";

const chain = (n: number) =>
  Array.from({ length: n }, (_, k) => n - 1 - k).map((i) => ({ task_id: `t${i}`, upstream: i ? [`t${i - 1}`] : [] }));

describe("checkGraph", () => {
  test("a chain of 50,000 tasks declared leaf first is a DAG", () => {
    expect(checkGraph(chain(50_000))).toEqual([]);
  });

  test("a cycle closing a chain of 50,000 tasks is found and named from its start", () => {
    const tasks = chain(50_000);
    tasks.at(-1)!.upstream = [`t${49_999}`]; // t0 now waits for the last task: t0 -> t1 -> … -> t49999 -> t0
    const [issue] = checkGraph(tasks);
    expect(issue?.path).toBe("tasks");
    expect(issue?.message).toStartWith("cycle detected: ");
    const ids = issue!.message.slice("cycle detected: ".length).split(" -> ");
    expect(ids).toHaveLength(50_001);
    expect(ids[0]).toBe(ids.at(-1));
  });

  test("a small cycle is named in its order, as before", () => {
    const tasks = [
      { task_id: "a", upstream: ["c"] },
      { task_id: "b", upstream: ["a"] },
      { task_id: "c", upstream: ["b"] },
      { task_id: "d", upstream: [] },
    ];
    expect(checkGraph(tasks)).toEqual([{ path: "tasks", message: "cycle detected: a -> b -> c -> a" }]);
  });
});
