import { describe, expect, test } from "bun:test";
import { ValidationError } from "../../../src/domain";
import { chain, collectDags, dag, isDag, type TaskHandle } from "../../../src/sdk";

describe("dag()", () => {
  test(".spec is exactly the dag.json a user would write", () => {
    const d = dag(
      { dag_id: "etl", schedule: "@daily", start_date: new Date("2026-01-01T00:00:00Z"), default_args: { retries: 1 } },
      ({ bash, python, http }) => {
        const extract = bash({ task_id: "extract", bash_command: "echo 1", retries: 3 });
        const load = python({ task_id: "load", upstream: [extract], python_code: "print(1)" });
        http({ task_id: "notify", upstream: ["load"], trigger_rule: "all_done", http: { method: "POST", url: "http://x/hook" } });
        void load;
      },
    );
    expect(d.spec).toEqual({
      dag_id: "etl",
      schedule: "@daily",
      start_date: "2026-01-01T00:00:00.000Z",
      default_args: { retries: 1 },
      tasks: [
        { task_id: "extract", operator: "bash", upstream: [], bash_command: "echo 1", retries: 3 },
        { task_id: "load", operator: "python", upstream: ["extract"], python_code: "print(1)" },
        {
          task_id: "notify",
          operator: "http",
          upstream: ["load"],
          trigger_rule: "all_done",
          http: { method: "POST", url: "http://x/hook" },
        },
      ],
    });
    expect(JSON.parse(JSON.stringify(d.spec))).toEqual(d.spec);
    expect(d.functions.size).toBe(0);
    expect(isDag(d)).toBe(true);
    expect(isDag(d.spec)).toBe(false);
  });

  test("ts tasks keep their functions by task_id", async () => {
    const d = dag({ dag_id: "fns" }, ({ ts }) => {
      const a = ts({ task_id: "a" }, () => ({ n: 2 }));
      ts({ task_id: "b", upstream: [a] }, (ctx) => ctx.xcom.a.n + 1);
    });
    expect(d.spec.tasks).toEqual([
      { task_id: "a", operator: "ts", upstream: [] },
      { task_id: "b", operator: "ts", upstream: ["a"] },
    ]);
    const b = d.functions.get("b")!;
    expect(await b({ xcom: { a: { n: 2 } } } as never)).toBe(3);
  });

  test("sensor() declares a sensor task with its fields, refused at load like dag.json", () => {
    const d = dag({ dag_id: "waits" }, ({ sensor, bash }) => {
      const wait = sensor({ task_id: "wait", sensor: { kind: "file", path: "/data/in/*.csv" }, poke_interval: 30, timeout: 600 });
      bash({ task_id: "load", bash_command: "true", upstream: [wait] });
    });
    expect(d.spec.tasks[0]).toEqual({
      task_id: "wait",
      operator: "sensor",
      sensor: { kind: "file", path: "/data/in/*.csv" },
      poke_interval: 30,
      timeout: 600,
      upstream: [],
    });
    expect(() =>
      dag({ dag_id: "eager" }, ({ sensor }) => void sensor({ task_id: "w", sensor: { kind: "file", path: "/x" }, poke_interval: 0.1 })),
    ).toThrow('dag "eager": tasks[0].poke_interval: poke_interval must be at least 1 s');
  });

  test("chain() links tasks and fans out and in", () => {
    const d = dag({ dag_id: "chained" }, ({ bash }) => {
      const t = (id: string) => bash({ task_id: id, bash_command: "echo" });
      const [a, b, c, e] = [t("a"), t("b"), t("c"), t("e")];
      chain(a, [b, c], e);
      chain(a, b); // already linked: not duplicated
    });
    expect(Object.fromEntries(d.spec.tasks.map((t) => [t.task_id, t.upstream]))).toEqual({ a: [], b: ["a"], c: ["a"], e: ["b", "c"] });
  });

  test("an invalid DAG throws a ValidationError naming the DAG and the field", () => {
    let error: unknown;
    try {
      dag({ dag_id: "bad" }, ({ bash }) => {
        const a = bash({ task_id: "a", bash_command: "echo" });
        const b = bash({ task_id: "b", bash_command: "echo", upstream: [a] });
        chain(b, a);
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).message).toMatch(/^dag "bad": tasks: cycle detected/);
    expect((error as ValidationError).issues).toEqual([
      { path: "tasks", message: expect.stringMatching(/cycle detected.*\(dag "bad"\)$/) },
    ]);
  });

  test("collectDags() gathers every dag() call made while it runs, exported or not", async () => {
    const { dags } = await collectDags(async () => {
      dag({ dag_id: "one" }, ({ bash }) => void bash({ task_id: "a", bash_command: "echo" }));
      dag({ dag_id: "two" }, ({ bash }) => void bash({ task_id: "a", bash_command: "echo" }));
    });
    expect(dags.map((d) => d.dag_id)).toEqual(["one", "two"]);
  });
});

// Type-level checks: `bunx tsc --noEmit` fails if XCom typing regresses.
test("types: a ts downstream sees its ts upstream's return type", () => {
  const declare = () =>
    dag({ dag_id: "typed" }, ({ ts, bash }) => {
      const count = ts({ task_id: "count" }, async () => ({ rows: 3, label: "x" }));
      const raw = bash({ task_id: "raw", bash_command: "echo" });
      ts({ task_id: "use", upstream: [count, raw, "by_id"] }, (ctx) => {
        const rows: number = ctx.xcom.count.rows;
        const label: string = ctx.xcom.count.label;
        // @ts-expect-error rows is a number
        const wrong: string = ctx.xcom.count.rows;
        // @ts-expect-error not an upstream
        void ctx.xcom.missing;
        const untyped: unknown = ctx.xcom.raw;
        const byId: unknown = ctx.xcom.by_id;
        return [rows, label, wrong, untyped, byId];
      });
      const handle: TaskHandle<"count", { rows: number; label: string }> = count;
      void handle;
      ts({ task_id: "x" }, () => 1);
      // @ts-expect-error bash needs bash_command
      bash({ task_id: "no_command" });
    });
  // At run time the same mistakes are caught by validation.
  expect(declare).toThrow(/tasks\[4\]: a bash task needs bash_command; tasks\[2\]\.upstream\[2\]: unknown upstream task "by_id"/);
});
