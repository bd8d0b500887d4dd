/** Dynamic task mapping, pure: how a mapping expands, what each instance receives, and what the DAG parser accepts. */
import { describe, expect, test } from "bun:test";
import { expandTask, mappedValues, sourceKey, ValidationError, type MappingFields } from "../../../src/domain";
import { parseDagSpec } from "../../../src/domain/schemas";

const xcom = (task: string, value: unknown, key = "return_value") => new Map([[sourceKey({ xcom: task, key }), value]]);
const none = new Map<string, unknown>();

describe("expandTask", () => {
  test.each<[string, MappingFields, Map<string, unknown>, number, ReturnType<typeof expandTask>]>([
    ["a literal list", { task_id: "t", expand: { x: [1, 2, 3] } }, none, 1024, { kind: "instances", count: 3 }],
    [
      "an upstream's list",
      { task_id: "t", expand: { x: { xcom: "make" } } },
      xcom("make", ["a", "b"]),
      1024,
      { kind: "instances", count: 2 },
    ],
    [
      "a named XCom key",
      { task_id: "t", expand: { x: { xcom: "make", key: "files" } } },
      xcom("make", [1], "files"),
      1024,
      { kind: "instances", count: 1 },
    ],
    [
      "two arguments: their cross product",
      { task_id: "t", expand: { x: [1, 2], y: ["a", "b", "c"] } },
      none,
      1024,
      { kind: "instances", count: 6 },
    ],
    ["expand_kwargs over literals", { task_id: "t", expand_kwargs: [{ a: 1 }, { a: 2 }] }, none, 1024, { kind: "instances", count: 2 }],
    [
      "expand_kwargs over an upstream",
      { task_id: "t", expand_kwargs: { xcom: "make" } },
      xcom("make", [{ a: 1 }]),
      1024,
      { kind: "instances", count: 1 },
    ],
    ["exactly the limit", { task_id: "t", expand: { x: [1, 2, 3] } }, none, 3, { kind: "instances", count: 3 }],
    [
      "an empty upstream list: skipped",
      { task_id: "t", expand: { x: { xcom: "make" } } },
      xcom("make", []),
      1024,
      { kind: "empty", reason: "mapped over an empty list (x): no instances to run" },
    ],
    [
      "one empty argument of two: skipped, naming it",
      { task_id: "t", expand: { x: [1], y: [] } },
      none,
      1024,
      { kind: "empty", reason: "mapped over an empty list (y): no instances to run" },
    ],
    [
      "a dict XCom: one instance per item, as Airflow maps over a dict",
      { task_id: "each", expand: { x: { xcom: "make" } } },
      xcom("make", { rows: 1, cols: 2 }),
      1024,
      { kind: "instances", count: 2 },
    ],
    [
      "a string XCom",
      { task_id: "each", expand: { x: { xcom: "make" } } },
      xcom("make", "a,b"),
      1024,
      { kind: "failed", reason: "task each expands over the XCom of upstream make, which is a string, not a list or an object" },
    ],
    [
      "a null XCom of a named key",
      { task_id: "each", expand: { x: { xcom: "make", key: "files" } } },
      xcom("make", null, "files"),
      1024,
      { kind: "failed", reason: "task each expands over the XCom files of upstream make, which is a null, not a list or an object" },
    ],
    [
      "no XCom at all",
      { task_id: "each", expand: { x: { xcom: "make" } } },
      none,
      1024,
      { kind: "upstream_failed", reason: "task each expands over the XCom of upstream make, which pushed none" },
    ],
    [
      "over the limit",
      { task_id: "each", expand: { x: { xcom: "make" } } },
      xcom(
        "make",
        Array.from({ length: 1500 }, (_, i) => i),
      ),
      1024,
      { kind: "failed", reason: "task each expands to 1,500 items, over the limit of 1024 (--max-map-length)" },
    ],
    [
      "a cross product over the limit",
      { task_id: "each", expand: { x: [1, 2, 3], y: [1, 2] } },
      none,
      5,
      { kind: "failed", reason: "task each expands to 6 items, over the limit of 5 (--max-map-length)" },
    ],
    [
      "expand_kwargs with an item that is not an object",
      { task_id: "each", expand_kwargs: { xcom: "make" } },
      xcom("make", [{ a: 1 }, 7]),
      1024,
      { kind: "failed", reason: "task each expand_kwargs item 1 is a number, not an object of arguments" },
    ],
  ])("%s", (_, task, sources, max, expected) => expect(expandTask(task, sources, max)).toEqual(expected));
});

describe("mappedValues", () => {
  const cross: MappingFields = { task_id: "t", expand: { x: [1, 2], y: ["a", "b", "c"] } };
  test.each<[string, MappingFields, Map<string, unknown>, number, Record<string, unknown> | null]>([
    ["a literal list", { task_id: "t", expand: { x: [10, 20] } }, none, 1, { x: 20 }],
    ["an upstream's list", { task_id: "t", expand: { f: { xcom: "make" } } }, xcom("make", ["a.csv", "b.csv"]), 0, { f: "a.csv" }],
    ["the cross product's first", cross, none, 0, { x: 1, y: "a" }],
    ["the last argument varies fastest (Airflow's order)", cross, none, 2, { x: 1, y: "c" }],
    ["the cross product's fourth", cross, none, 3, { x: 2, y: "a" }],
    ["expand_kwargs", { task_id: "t", expand_kwargs: [{ a: 1, b: 2 }, { a: 3 }] }, none, 1, { a: 3 }],
    // A dict's [key, value] pairs in key order (Postgres's jsonb keeps no insertion order; both stores agree).
    ["a dict's first item, by key", { task_id: "t", expand: { x: { xcom: "make" } } }, xcom("make", { b: 2, a: 1 }), 0, { x: ["a", 1] }],
    ["a dict's second item", { task_id: "t", expand: { x: { xcom: "make" } } }, xcom("make", { b: 2, a: 1 }), 1, { x: ["b", 2] }],
    ["an index past the end (the upstream changed)", { task_id: "t", expand: { x: [1] } }, none, 1, null],
    ["the unexpanded index -1", { task_id: "t", expand: { x: [1] } }, none, -1, null],
    ["an XCom that is no longer a list", { task_id: "t", expand: { x: { xcom: "make" } } }, xcom("make", 5), 0, null],
  ])("%s", (_, task, sources, index, expected) => expect(mappedValues(task, sources, index)).toEqual(expected));
});

describe("parseDagSpec with mapping", () => {
  const base = (each: object) => ({
    dag_id: "m",
    tasks: [
      { task_id: "make", operator: "bash", bash_command: "true" },
      { task_id: "each", operator: "bash", bash_command: "true", ...each },
    ],
  });

  test("the upstream a mapping reads becomes a dependency, as in Airflow", () => {
    const spec = parseDagSpec(base({ expand: { x: { xcom: "make" } } }));
    expect(spec.tasks[1]!.upstream).toEqual(["make"]);
  });

  test.each<[string, object, string]>([
    [
      "both expand and expand_kwargs",
      { expand: { x: [1] }, expand_kwargs: [{ x: 1 }] },
      'tasks[1]: task "each" sets both expand and expand_kwargs; use one',
    ],
    [
      "an unknown upstream",
      { expand: { x: { xcom: "nope" } } },
      'tasks[1].upstream[0]: unknown upstream task "nope"; define it in tasks or remove it',
    ],
    [
      "an argument name that is no identifier",
      { expand: { "bad-name": [1] } },
      "tasks[1].expand.bad-name: mapped argument names are letters, digits and '_', not starting with a digit",
    ],
    ["an empty expand", { expand: {} }, "tasks[1].expand: expand needs at least one argument"],
    [
      "depends_on_past on a mapped task",
      { expand: { x: [1] }, depends_on_past: true },
      'tasks[1].depends_on_past: task "each" is mapped, and depends_on_past is not supported on a mapped task yet; set depends_on_past: false on it (a default_args value included), or set it on the unmapped task the mapping reads from (docs/mapping.md)',
    ],
    ["max_active_tis_per_dag 0", { max_active_tis_per_dag: 0 }, "tasks[1].max_active_tis_per_dag: Too small: expected number to be >=1"],
  ])("refuses %s", (_, each, message) => {
    let error: unknown;
    try {
      parseDagSpec(base(each));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toBe(message);
  });
});
