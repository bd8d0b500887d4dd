/**
 * DAG params as Airflow writes them, seen through the loader (what `GET /api/v2/importErrors` and `leoflow dags
 * validate` show): bare values, JSON Schema type lists and keywords, defaults checked against their schema, and
 * a scheduled DAG refused when a param has no default.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadDagFile } from "../../../src/dags";

const tmp = mkdtempSync(join(tmpdir(), "leoflow-dag-params-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const TASKS = [{ task_id: "t", operator: "bash", bash_command: "echo {{ params.plain }}" }];

async function load(name: string, dag: Record<string, unknown>) {
  const file = join(tmp, `${name}.json`);
  writeFileSync(file, JSON.stringify({ dag_id: name, tasks: TASKS, ...dag }));
  return loadDagFile(file);
}

describe("params in a DAG file", () => {
  test("a bare value is the param whose default it is; an object stays a schema", async () => {
    const r = await load("bare", {
      params: { plain: "hello", count: 3, on: true, none: null, list: [1, 2], limit: { type: "integer", default: 10 } },
    });
    expect(r.errors).toEqual([]);
    expect(r.dags[0]!.spec.params).toEqual({
      plain: { default: "hello" },
      count: { default: 3 },
      on: { default: true },
      none: { default: null },
      list: { default: [1, 2] },
      limit: { type: "integer", default: 10 },
    });
  });

  test('a type list ("null" for an optional param) and other JSON Schema keywords load', async () => {
    const r = await load("typed", {
      schedule: "@daily",
      params: {
        plain: { type: ["null", "string"], default: null },
        day: { type: "string", format: "date", default: "2026-03-01" },
        ids: { type: "array", items: { type: "integer" }, minItems: 1, default: [1] },
        note: { type: "string", format: "multiline", title: "Note", minLength: 0, default: "" },
      },
    });
    expect(r.errors).toEqual([]);
    expect(r.dags[0]!.spec.params.plain).toEqual({ type: ["null", "string"], default: null });
  });

  test("a default that breaks its own schema is an import error naming the param", async () => {
    const r = await load("bad_default", {
      params: {
        plain: { type: "string", minLength: 3, default: "ab" },
        day: { type: "string", format: "date", default: "2026-13-01" },
        code: { type: "string", pattern: "^[A-Z]+$", default: "abc" },
      },
    });
    expect(r.dags).toEqual([]);
    expect(r.errors).toEqual([
      { path: "params.plain", message: `the default does not fit the param's schema: "ab" is shorter than the minimum length 3` },
      { path: "params.day", message: `the default does not fit the param's schema: "2026-13-01" is not a valid date` },
      { path: "params.code", message: `the default does not fit the param's schema: "abc" does not match the pattern ^[A-Z]+$` },
    ]);
  });

  test("a schema that is not valid JSON Schema is an import error", async () => {
    const r = await load("bad_schema", {
      params: {
        plain: { type: "string", minLength: -1 },
        re: { type: "string", pattern: "(" },
        kind: { type: "strng" },
      },
    });
    expect(r.dags).toEqual([]);
    expect(r.errors).toEqual([
      {
        path: "params.kind.type",
        message:
          'unknown type "strng"; use one of string, integer, number, boolean, object, array, null, or a list of them such as ["null", "string"]',
      },
    ]);
    const r2 = await load("bad_schema2", { params: { plain: { type: "string", minLength: -1 }, re: { type: "string", pattern: "(" } } });
    expect(r2.errors).toEqual([
      { path: "params.plain", message: "not a valid JSON Schema: minLength must be >= 0" },
      { path: "params.re", message: "not a valid JSON Schema: error parsing regexp: missing closing ): `(`" },
    ]);
  });

  test("a pattern RE2 cannot run in linear time (lookaround, backreferences) is an import error naming the param", async () => {
    const r = await load("lookahead", { params: { code: { type: "string", pattern: "^(?=x)[a-z]+$", default: "xy" } } });
    expect(r.errors).toEqual([
      {
        path: "params.code",
        message: expect.stringMatching(/^not a valid JSON Schema: error parsing regexp: invalid or unsupported Perl syntax: `\(\?=`/),
      },
    ]);
  });

  test("a DAG with a schedule may not have a param without default (Airflow refuses it at parse time)", async () => {
    const r = await load("scheduled_required", { schedule: "@daily", params: { plain: { type: "string" } } });
    expect(r.dags).toEqual([]);
    expect(r.errors).toEqual([
      {
        path: "params.plain",
        message:
          'param "plain" has no default, but the DAG has a schedule ("@daily") and its scheduled runs have no conf to give it a value; give it a default (an optional param: "default": null with "type": ["null", …]), or set "schedule": null to trigger the DAG only by hand (Airflow: "DAG Schedule must be None, if there are any required params without default values")',
      },
    ]);
    // Without a schedule it is a param each trigger must give.
    expect((await load("manual_required", { schedule: null, params: { plain: { type: "string" } } })).errors).toEqual([]);
  });
});
