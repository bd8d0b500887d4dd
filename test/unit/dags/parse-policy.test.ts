import { describe, expect, test } from "bun:test";
import { loadServeConfig } from "../../../src/config";
import { DEFAULT_PARSE_LIMITS, describeFailure, formatMemory, formatSeconds, parseWorkerEnv, type ParseFailure } from "../../../src/dags";
import { decodeReport, isCacheable, resultFromReport } from "../../../src/dags/parse-policy";
import { parseDagSpec } from "../../../src/domain/schemas";

const limits = { timeoutMs: 2000, memoryBytes: 256 * 2 ** 20 };

describe("describeFailure: how a parse process ended, as a user reads it", () => {
  const cases: [ParseFailure, RegExp][] = [
    [{ kind: "timeout" }, /^timed out after 2 s while importing .*raise --dag-parse-timeout$/],
    [{ kind: "memory" }, /^exceeded 256 MiB of memory while importing .*raise --dag-parse-memory$/],
    [
      { kind: "exit", code: 1 },
      /^exited with code 1 while importing \(process\.exit\(\) or a crash\); a DAG file must not end the process$/,
    ],
    [{ kind: "exit", code: 0 }, /^exited with code 0 before its DAGs were collected/],
    [{ kind: "exit", code: 3, stderr: "noise\nfatal: bad thing\n" }, /code 3 .*; its last output: noise \| fatal: bad thing$/],
    [{ kind: "signal", signal: "SIGSEGV" }, /^was killed by SIGSEGV while importing$/],
    [{ kind: "spawn", message: "ENOENT" }, /^could not start the process that parses DAG files: ENOENT$/],
  ];
  test.each(cases)("%j", (failure, expected) => {
    const e = describeFailure(failure, limits);
    expect(e.path).toBe("");
    expect(e.message).toMatch(expected);
  });

  test("the default limits read as the flags' defaults", () => {
    expect(describeFailure({ kind: "timeout" }, DEFAULT_PARSE_LIMITS).message).toStartWith("timed out after 30 s");
    expect(describeFailure({ kind: "memory" }, DEFAULT_PARSE_LIMITS).message).toStartWith("exceeded 512 MiB");
  });

  test("only a failure to spawn is left out of the cache (it is about the machine, not the file)", () => {
    expect(isCacheable({ kind: "spawn", message: "x" })).toBe(false);
    expect(isCacheable({ kind: "timeout" })).toBe(true);
    expect(isCacheable(undefined)).toBe(true);
  });
});

test.each([
  [1500, "1.5 s"],
  [30_000, "30 s"],
  [250, "0.25 s"],
])("formatSeconds(%p) = %p", (ms, text) => expect(formatSeconds(ms)).toBe(text));

test.each([
  [512 * 2 ** 20, "512 MiB"],
  [2 ** 30, "1 GiB"],
  [1.5 * 2 ** 30, "1.5 GiB"],
  [100_000_000, "95.4 MiB"],
])("formatMemory(%p) = %p", (bytes, text) => expect(formatMemory(bytes)).toBe(text));

test("a parse process gets an allowlisted environment: none of the server's secrets", () => {
  const env = parseWorkerEnv(
    {
      PATH: "/bin",
      HOME: "/h",
      LANG: "C.UTF-8",
      LC_ALL: "C",
      TZ: "UTC",
      LEOFLOW_JWT_SECRET: "s",
      LEOFLOW_DB: "postgres://u:p@h/db",
      PGPASSWORD: "p",
      AWS_SECRET_ACCESS_KEY: "k",
      NOTHING: undefined,
    },
    limits,
  );
  expect(env).toEqual({
    PATH: "/bin",
    HOME: "/h",
    LANG: "C.UTF-8",
    LC_ALL: "C",
    TZ: "UTC",
    NO_COLOR: "1",
    BUN_JSC_forceRAMSize: String(256 * 2 ** 20),
    LEOFLOW_PARSE_CPU_SECONDS: "18",
  });
});

describe("reading a report back", () => {
  const spec = { dag_id: "etl", tasks: [{ task_id: "a", operator: "bash", bash_command: "echo" }] };

  test("one line per file; a torn last line (killed mid-write) is dropped", () => {
    const text = `${JSON.stringify({ file: "/d/a.json", dags: [spec], errors: [] })}\n{"file":"/d/b.json","da`;
    expect([...decodeReport(text).keys()]).toEqual(["/d/a.json"]);
  });

  test("reported DAGs are validated again: the report is no more trusted than the file", () => {
    const r = resultFromReport(
      "/d/x.ts",
      {
        file: "/d/x.ts",
        dags: [spec, { dag_id: "bad", tasks: [] }, spec],
        errors: [{ path: "line 1", message: "m" }],
      },
      parseDagSpec,
    );
    expect(r.dags.map((d) => d.spec.dag_id)).toEqual(["etl"]);
    expect(r.errors).toEqual([
      { path: "line 1", message: "m" },
      { path: "tasks", message: "a DAG needs at least one task (reported by the parse process)" },
      { path: "dag_id", message: 'dag_id "etl" is defined twice in this file' },
    ]);
  });
});

describe("--dag-parse-timeout and --dag-parse-memory", () => {
  test("defaults: 30 s and 512 MiB", () => {
    const cfg = loadServeConfig([], {});
    expect(cfg.dag_parse_timeout).toBe(30);
    expect(cfg.dag_parse_memory).toBe(512 * 2 ** 20);
  });

  test.each([
    ["1Gi", 2 ** 30],
    ["256Mi", 256 * 2 ** 20],
    ["134217728", 134217728],
  ])("--dag-parse-memory %s is %p bytes", (given, bytes) => {
    expect(loadServeConfig(["--dag-parse-memory", given], {}).dag_parse_memory).toBe(bytes);
    expect(loadServeConfig([], { LEOFLOW_DAG_PARSE_MEMORY: given }).dag_parse_memory).toBe(bytes);
  });

  test.each([
    [["--dag-parse-memory", "lots"], /--dag-parse-memory: expects a size/],
    [["--dag-parse-memory", "1Mi"], /--dag-parse-memory: must be at least 67108864 bytes/],
    [["--dag-parse-timeout", "0"], /--dag-parse-timeout: /],
  ])("%j is refused with the flag's name", (argv, message) => {
    expect(() => loadServeConfig(argv, {})).toThrow(message);
  });
});
