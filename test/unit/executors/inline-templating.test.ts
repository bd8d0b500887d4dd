import { describe, expect, test } from "bun:test";
import {
  TemplateError,
  candidateKeys,
  renderJson,
  renderString,
  templateParams,
  templateRefs,
  type TemplateContext,
} from "../../../src/executors";

const ctx: TemplateContext = {
  dag_id: "etl",
  run_id: "manual__1",
  task_id: "notify",
  try_number: 2,
  logical_date: new Date("2026-03-01T06:30:00Z"),
  params: { limit: 10, region: "eu" },
  conf: { user: { name: "ada" }, ids: [7, 8] },
  xcom: { extract: { rows: 42, tags: ["a", "b"] }, "v1.count": 5, text: "hello" },
  var: { api_url: "http://api", cfg: '{"retries": 3}', "team.channel": "#ops" },
};

describe("renderString", () => {
  const cases: [string, string][] = [
    ["{{ dag_id }}/{{ run_id }}/{{task_id}}/{{ try_number }}", "etl/manual__1/notify/2"],
    ["{{ logical_date }}", "2026-03-01T06:30:00.000Z"],
    ["{{ ds }}", "2026-03-01"],
    ["{{ ts }}", "2026-03-01T06:30:00+00:00"],
    ["limit={{ params.limit }}&r={{ params.region }}", "limit=10&r=eu"],
    ["{{ conf.user.name }} {{ conf.ids.1 }}", "ada 8"],
    ["{{ conf.user }}", '{"name":"ada"}'],
    ["rows={{ xcom.extract.rows }} tag={{ xcom.extract.tags.0 }}", "rows=42 tag=a"],
    ["{{ xcom.v1.count }}", "5"],
    ["{{ xcom.text }}", "hello"],
    ["{{ var.api_url }}/x", "http://api/x"],
    ["{{ var.cfg.retries }}", "3"],
    ["{{ var.team.channel }}", "#ops"],
    ["no templates here", "no templates here"],
  ];
  for (const [input, want] of cases) test(input, () => expect(renderString(input, ctx, "http.url")).toBe(want));
});

describe("unknown references fail naming the template, where, and what exists", () => {
  const cases: [string, string][] = [
    ["{{ nope }}", 'template {{ nope }} in http.url: unknown reference "nope"; use dag_id, run_id'],
    ["{{ params.missing }}", 'template {{ params.missing }} in http.url: no param "missing" (known: limit, region)'],
    ["{{ conf.user.age }}", 'template {{ conf.user.age }} in http.url: conf.user has no field "age" (fields: name)'],
    ["{{ xcom.load }}", 'template {{ xcom.load }} in http.url: task "load" has no return_value XCom in this run'],
    ["{{ xcom.extract.rowz }}", 'xcom.extract has no field "rowz" (fields: rows, tags)'],
    ["{{ xcom.extract.tags.5 }}", 'xcom.extract.tags has no field "5" (it is a list of 2)'],
    ["{{ var.missing }}", 'variable "missing" does not exist; create it with POST /api/v2/variables'],
    ["{{ var.api_url.x }}", 'variable "api_url" is not JSON, so it has no field "x"'],
    ["{{ ds.x }}", "ds has no fields"],
    ["{{ }}", "empty template"],
  ];
  for (const [input, want] of cases)
    test(input, () => {
      expect(() => renderString(input, ctx, "http.url")).toThrow(TemplateError);
      expect(() => renderString(input, ctx, "http.url")).toThrow(want);
    });

  test("ds without a logical_date says so", () => {
    expect(() => renderString("{{ ds }}", { ...ctx, logical_date: null }, "http.body")).toThrow(
      "template {{ ds }} in http.body: this run has no logical_date",
    );
  });
});

describe("renderJson", () => {
  test("a whole-string template keeps the JSON type; mixed strings become text; paths name the field", () => {
    const out = renderJson(
      {
        rows: "{{ xcom.extract.rows }}",
        all: "{{ xcom.extract }}",
        msg: "got {{ xcom.extract.rows }} rows",
        n: 1,
        list: ["{{ params.limit }}", null],
      },
      ctx,
      "http.json",
    );
    expect(out).toEqual({ rows: 42, all: { rows: 42, tags: ["a", "b"] }, msg: "got 42 rows", n: 1, list: [10, null] });
    expect(() => renderJson({ a: { b: ["{{ conf.nope }}"] } }, ctx, "http.json")).toThrow('in http.json.a.b[0]: no conf key "nope"');
  });
});

describe("templateRefs and candidateKeys", () => {
  test("collects references from url, headers, query, body and json", () => {
    const refs = templateRefs({
      method: "POST",
      url: "http://h/{{ var.a }}",
      headers: { x: "{{ xcom.t1 }}" },
      query: { q: "{{ params.p }}", n: 1 },
      json: { deep: ["{{ xcom.t2.field }}"] },
    });
    expect(refs.map((r) => r.expr)).toEqual(["var.a", "xcom.t1", "params.p", "xcom.t2.field"]);
  });

  test("dotted names are tried longest first", () => {
    expect(candidateKeys(["a", "b", "c"])).toEqual([
      { key: "a.b.c", rest: [] },
      { key: "a.b", rest: ["c"] },
      { key: "a", rest: ["b", "c"] },
    ]);
  });

  test("params are the DAG's defaults overlaid with conf", () => {
    expect(templateParams({ limit: { default: 10 }, x: {} }, { limit: 3, extra: true })).toEqual({ limit: 3, x: null, extra: true });
  });
});
