import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { selfCommand } from "../../../src/agent";
import { IsolatedDagParser, inProcessParser, isDagFile, loadDagFile, validatePath } from "../../../src/dags";

const FIXTURES = join(import.meta.dir, "../../fixtures/dags");
const tmp = mkdtempSync(join(tmpdir(), "leoflow-loader-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Writes a file into a fresh folder outside the repo (no tsconfig alias: the SDK plugin must serve it). */
function write(name: string, text: string): string {
  const path = join(tmp, name);
  writeFileSync(path, text);
  return path;
}

describe("loadDagFile: valid files", () => {
  test("dag.json applies default_args and keeps task fields", async () => {
    const r = await loadDagFile(join(FIXTURES, "fixture_etl.json"));
    expect(r.errors).toEqual([]);
    expect(r.dags.map((d) => d.spec.dag_id)).toEqual(["fixture_etl"]);
    const [extract, load] = r.dags[0]!.spec.tasks;
    expect(extract!.retries).toBe(2);
    expect(load!.retries).toBe(0);
    expect(load!.upstream).toEqual(["extract"]);
  });

  test("dag.yaml with a list declares several DAGs", async () => {
    const r = await loadDagFile(join(FIXTURES, "fixture_pair.yaml"));
    expect(r.errors).toEqual([]);
    expect(r.dags.map((d) => d.spec.dag_id)).toEqual(["fixture_yaml_one", "fixture_yaml_two"]);
    expect(r.dags[1]!.spec.tasks[1]!.trigger_rule).toBe("all_done");
  });

  test("an SDK file yields registered and exported DAGs, with ts functions", async () => {
    const r = await loadDagFile(join(FIXTURES, "fixture_sdk.ts"));
    expect(r.errors).toEqual([]);
    expect(r.dags.map((d) => d.spec.dag_id)).toEqual(["fixture_sdk_hidden", "fixture_sdk_typed"]);
    const typed = r.dags[1]!;
    expect(typed.spec.start_date).toBe("2026-02-01T00:00:00.000Z");
    expect(typed.spec.tasks.find((t) => t.task_id === "nothing")!.upstream).toEqual(["twice"]);
    expect([...typed.functions!.keys()]).toEqual(["sum-up", "twice", "nothing", "explode"]);
  });

  test("an SDK file outside the repo imports leoflow/sdk through the plugin", async () => {
    const file = write(
      "outside.ts",
      `import { dag } from "leoflow/sdk";\nconst n: number = 1;\ndag({ dag_id: "outside" }, ({ ts }) => { ts({ task_id: "t" }, () => n); });\n`,
    );
    const r = await loadDagFile(file);
    expect(r.errors).toEqual([]);
    expect(r.dags[0]!.spec.tasks[0]).toMatchObject({ task_id: "t", operator: "ts" });
  });

  test("a changed SDK file is re-imported, an unchanged one keeps its DAGs", async () => {
    const file = write(
      "changing.ts",
      `import { dag } from "leoflow/sdk";\ndag({ dag_id: "v1" }, ({ bash }) => { bash({ task_id: "a", bash_command: "echo" }); });\n`,
    );
    expect((await loadDagFile(file)).dags.map((d) => d.spec.dag_id)).toEqual(["v1"]);
    expect((await loadDagFile(file)).dags.map((d) => d.spec.dag_id)).toEqual(["v1"]);
    write(
      "changing.ts",
      `import { dag } from "leoflow/sdk";\ndag({ dag_id: "v2_longer" }, ({ bash }) => { bash({ task_id: "a", bash_command: "echo" }); });\n`,
    );
    expect((await loadDagFile(file)).dags.map((d) => d.spec.dag_id)).toEqual(["v2_longer"]);
  });
});

describe("loadDagFile: problems are reported, never thrown", () => {
  const cases: [string, { path: string; message: RegExp }[]][] = [
    ["malformed.json", [{ path: "line 4, column 42", message: /invalid JSON: expected ',' or '}'/ }]],
    ["unknown_operator.json", [{ path: "tasks[0].operator", message: /unknown operator "perl"; use one of bash/ }]],
    ["cycle.yaml", [{ path: "tasks", message: /cycle detected: a -> b -> c -> a/ }]],
    ["unknown_upstream.json", [{ path: "tasks[1].upstream[1]", message: /unknown upstream task "ghost"/ }]],
    ["bad_cron.yaml", [{ path: "schedule", message: /invalid cron "61 \* \* \* \*"/ }]],
    ["bad_yaml.yaml", [{ path: "line 5, column 1", message: /invalid YAML: Flow sequence/ }]],
  ];
  test.each(cases)("%s", async (name, expected) => {
    const r = await loadDagFile(join(FIXTURES, "_broken", name));
    expect(r.dags).toEqual([]);
    expect(r.errors.map((e) => e.path)).toEqual(expected.map((e) => e.path));
    r.errors.forEach((e, i) => {
      expect(e.message).toMatch(expected[i]!.message);
    });
  });

  test("a value nested 100,000 deep is an import error with its path, not a stack overflow; 60 deep loads", async () => {
    const body = (n: number) => `${"[".repeat(n)}1${"]".repeat(n)}`;
    const dag = (id: string, n: number) =>
      `{"dag_id":"${id}","tasks":[{"task_id":"a","operator":"http","http":{"method":"POST","url":"http://h","json":${body(n)}}}]}`;
    const deep = await loadDagFile(write("deep_body.json", dag("deep_body", 100_000)));
    expect(deep.dags).toEqual([]);
    expect(deep.errors).toEqual([
      {
        path: expect.stringMatching(/^tasks\[0\]\.http\.json(\[0\])+…$/),
        message:
          "nested deeper than 64 levels: a DAG file's objects and arrays may nest at most 64 deep; flatten the value or write it as a string",
      },
    ]);
    const fine = await loadDagFile(write("fine_body.json", dag("fine_body", 60)));
    expect(fine.errors).toEqual([]);
    expect(fine.dags.map((d) => d.spec.dag_id)).toEqual(["fine_body"]);
  });

  test("a TS syntax error has line and column", async () => {
    const r = await loadDagFile(write("syntax.ts", `import { dag } from "leoflow/sdk";\nconst x = {\n  a: 1,,\n};\n`));
    expect(r.errors[0]).toEqual({ path: "line 3, column 8", message: expect.stringMatching(/^syntax error: /) });
  });

  test("an error thrown at import names its line", async () => {
    const r = await loadDagFile(write("throws.ts", `import { dag } from "leoflow/sdk";\n\nthrow new Error("no config");\n`));
    expect(r.errors).toEqual([{ path: "line 3, column 11", message: "error while importing: no config" }]);
  });

  test("an invalid SDK DAG reports field paths and names the DAG", async () => {
    const r = await loadDagFile(
      write(
        "bad_sdk.ts",
        `import { dag } from "leoflow/sdk";\ndag({ dag_id: "bad_sdk" }, ({ bash }) => { bash({ task_id: "a", bash_command: "x", upstream: ["nope"] }); });\n`,
      ),
    );
    expect(r.errors).toEqual([
      { path: "tasks[0].upstream[0]", message: expect.stringMatching(/unknown upstream task "nope".*\(dag "bad_sdk"\)$/) },
    ]);
  });

  test("a TS file that declares no DAG says how to fix it", async () => {
    const r = await loadDagFile(write("helper.ts", `export const x = 1;\n`));
    expect(r.errors[0]!.message).toMatch(/no DAG declared: call dag\(\) from "leoflow\/sdk"/);
  });

  test("one bad DAG in a list does not hide the good one", async () => {
    const r = await loadDagFile(
      write(
        "mixed.yaml",
        `- { dag_id: good, tasks: [{ task_id: a, operator: bash, bash_command: echo }] }\n- { dag_id: bad, tasks: [] }\n`,
      ),
    );
    expect(r.dags.map((d) => d.spec.dag_id)).toEqual(["good"]);
    expect(r.errors).toEqual([{ path: "[1].tasks", message: "a DAG needs at least one task" }]);
  });

  test("the same dag_id twice in one file is an error on the second", async () => {
    const dagYaml = `{ dag_id: twin, tasks: [{ task_id: a, operator: bash, bash_command: echo }] }`;
    const r = await loadDagFile(write("twins.yaml", `- ${dagYaml}\n- ${dagYaml}\n`));
    expect(r.dags).toHaveLength(1);
    expect(r.errors).toEqual([{ path: "[1].dag_id", message: 'dag_id "twin" is defined twice in this file' }]);
  });

  test("a missing file or an empty file is an error, not an exception", async () => {
    expect((await loadDagFile(join(tmp, "missing.json"))).errors).toHaveLength(1);
    expect((await loadDagFile(write("empty.yaml", ""))).errors[0]!.message).toMatch(/the file is empty/);
  });
});

describe("validatePath", () => {
  // The CLI's path: every file parsed in a child process (`bun src/main.ts __parse-dags` here).
  const parser = new IsolatedDagParser({ command: selfCommand(), version: "test" });

  test("a dag_id already defined by another file is an error on the second file", async () => {
    const [first, second] = await validatePath(join(FIXTURES, "_duplicate"), parser);
    expect(first!.dags.map((d) => d.spec.dag_id)).toEqual(["dup"]);
    expect(second!.dags).toEqual([]);
    expect(second!.errors).toEqual([
      { path: "dag_id", message: expect.stringMatching(/dag_id "dup" is already defined in .*a_first\.json/) },
    ]);
  });

  test("a folder skips hidden and _private entries; the examples are valid", async () => {
    const fixtures = await validatePath(FIXTURES, parser);
    expect(fixtures.map((r) => r.file.split("/").pop())).toEqual(["fixture_etl.json", "fixture_pair.yaml", "fixture_sdk.ts"]);
    const examples = await validatePath(join(import.meta.dir, "../../../examples/dags"), parser);
    expect(examples.flatMap((r) => r.errors)).toEqual([]);
    expect(examples.flatMap((r) => r.dags.map((d) => d.spec.dag_id))).toEqual([
      "example_branching",
      "example_etl",
      "example_mapping",
      "example_sdk",
    ]);
  });

  test("a missing path is reported", async () => {
    expect((await validatePath(join(tmp, "nowhere"), inProcessParser))[0]!.errors[0]!.message).toBe("no such file or folder");
  });
});

test.each([
  ["dags/etl.json", true],
  ["dags/etl.yml", true],
  ["dags/etl.ts", true],
  ["dags/etl.mjs", true],
  ["dags/.hidden.json", false],
  ["dags/_helpers.ts", false],
  ["dags/types.d.ts", false],
  ["dags/README.md", false],
  ["dags/etl.py", false],
])("isDagFile(%s) = %p", (path, expected) => expect(isDagFile(path)).toBe(expected));
