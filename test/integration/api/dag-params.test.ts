/**
 * A trigger's conf checked against each param's full JSON Schema (Airflow validates with jsonschema and its format
 * checker): a 400 whose detail names the param, `conf.<name>: <what is wrong>`; and the DAG's details show params
 * written as bare values and type lists the way the trigger form reads them.
 */
import { describe, expect, test } from "bun:test";
import { parseDagSpec } from "../../../src/domain/schemas";
import { forEachApiStore, NOW } from "./harness";

const FORM = {
  dag_id: "form",
  schedule: null,
  params: {
    greeting: "hello",
    note: { type: ["null", "string"], default: null, description: "optional" },
    code: { type: "string", minLength: 3, maxLength: 5, pattern: "^[a-z]+$", default: "abc" },
    day: { type: "string", format: "date", default: "2026-03-01" },
    email: { type: "string", format: "email", default: "ops@example.com" },
    ids: { type: "array", items: { type: "integer" }, minItems: 1, default: [1] },
    target: { type: "object", properties: { host: { type: "string" } }, required: ["host"], default: { host: "db" } },
    ratio: { type: "number", exclusiveMinimum: 0, multipleOf: 0.5, default: 1 },
  },
  tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }],
};

forEachApiStore((makeHarness) => {
  describe("params as JSON Schema on POST /api/v2/dags/{dag_id}/dagRuns", () => {
    const harness = async () => {
      const h = await makeHarness();
      await h.store.upsertDag("default", { spec: parseDagSpec(FORM), fileloc: "/dags/form.json", pausedOnCreate: false, now: NOW });
      return h;
    };

    test("a pattern with nested quantifiers is checked in linear time, and right: a crafted conf neither stalls nor fools it", async () => {
      // The native engine backtracks exponentially on (a+)+ against "aaa…ab" and, at its backtracking limit (~0.5 s of
      // the server's thread per trigger), answers "no match" even where the other branch matches: the trigger below
      // was refused. RE2 (re2js) answers at once, and rightly.
      const h = await makeHarness();
      const pattern = "^(?:(a+)+c|a*b)$";
      const spec = parseDagSpec({
        dag_id: "redos",
        schedule: null,
        params: { word: { type: "string", pattern, default: "ab" } },
        tasks: [{ task_id: "t", operator: "bash", bash_command: "true" }],
      });
      await h.store.upsertDag("default", { spec, fileloc: "/dags/redos.json", pausedOnCreate: false, now: NOW });
      const matching = `${"a".repeat(30)}b`;
      const ok = await h.json("POST", "/api/v2/dags/redos/dagRuns", { body: { logical_date: null, conf: { word: matching } } });
      expect(ok.status).toBe(200);
      const crafted = `${"a".repeat(60)}x`;
      const refused = await h.json("POST", "/api/v2/dags/redos/dagRuns", { body: { logical_date: null, conf: { word: crafted } } });
      expect(refused.status).toBe(400);
      expect(refused.body.detail).toBe(`invalid conf: conf.word: "${crafted}" does not match the pattern ${pattern}`);
    });

    test("conf that every schema accepts triggers the run, conf as given", async () => {
      const h = await harness();
      const conf = { note: null, code: "xyz", day: "2026-02-28", ids: [1, 2], target: { host: "h" }, ratio: 2.5, greeting: 5 };
      const r = await h.json("POST", "/api/v2/dags/form/dagRuns", { body: { logical_date: null, conf } });
      expect(r.status).toBe(200);
      expect(r.body.conf).toEqual(conf);
    });

    test.each([
      [{ code: "ab" }, 'conf.code: "ab" is shorter than the minimum length 3'],
      [{ code: "abcdef" }, 'conf.code: "abcdef" is longer than the maximum length 5'],
      [{ code: "AB1" }, 'conf.code: "AB1" does not match the pattern ^[a-z]+$'],
      [{ day: "2026-02-30" }, 'conf.day: "2026-02-30" is not a valid date'],
      [{ email: "nobody" }, 'conf.email: "nobody" is not a valid email'],
      [{ ids: [] }, "conf.ids: has 0 items, fewer than the minimum 1"],
      [{ ids: [1, "2"] }, 'conf.ids: in ids[1]: expected integer, got string "2"'],
      [{ target: { port: 5432 } }, 'conf.target: the field "host" is required'],
      [{ ratio: 0 }, "conf.ratio: 0 is not greater than the exclusive minimum 0"],
      [{ ratio: 0.75 }, "conf.ratio: 0.75 is not a multiple of 0.5"],
      [{ note: 3 }, "conf.note: expected null or string, got integer 3"],
    ])("%j is 400: %s", async (conf, detail) => {
      const h = await harness();
      const r = await h.json("POST", "/api/v2/dags/form/dagRuns", { body: { logical_date: null, conf } });
      expect(r.status).toBe(400);
      expect(r.body.detail).toBe(`invalid conf: ${detail}`);
      expect(await h.store.listDagRuns("default", { dag_id: "form" })).toMatchObject({ total: 0 });
    });

    test("the details show a bare value as the param's default, and a type list as written", async () => {
      const h = await harness();
      const r = await h.json("GET", "/api/v2/dags/form/details");
      expect(r.body.params.greeting).toEqual({ value: "hello", description: null, schema: {} });
      expect(r.body.params.note).toEqual({ value: null, description: "optional", schema: { type: ["null", "string"] } });
    });
  });
});
