import { describe, expect, test } from "bun:test";
import { fieldKind, initialText, type ParamSpec, parseConf, parseField, textOf, triggerErrors } from "../../../src/ui/app/params-form";

const p = (schema: ParamSpec["schema"], value: unknown = null): ParamSpec => ({ value, description: null, schema });

describe("trigger form from a DAG's params", () => {
  test("each param type gets its input", () => {
    expect(fieldKind(p({ type: "integer" }, 2))).toBe("integer");
    expect(fieldKind(p({ type: "boolean" }, false))).toBe("boolean");
    expect(fieldKind(p({ type: "string", enum: ["a", "b"] }, "a"))).toBe("enum");
    expect(fieldKind(p({ type: "object" }, {}))).toBe("json");
    expect(fieldKind(p({}, [1, 2]))).toBe("json");
    expect(fieldKind(p({}, 1.5))).toBe("number");
    expect(fieldKind(p({}, "x"))).toBe("string");
  });

  test("defaults fill the inputs; an enum selects its default's index", () => {
    expect(initialText(p({ type: "integer" }, 2))).toBe("2");
    expect(initialText(p({ type: "object" }, { a: 1 }))).toBe('{\n  "a": 1\n}');
    expect(initialText(p({ enum: ["x", "y"] }, "y"))).toBe("1");
    expect(initialText(p({ type: "string" }, null))).toBe("");
  });

  test("typed text becomes the conf value; bad numbers and JSON are caught before sending", () => {
    expect(parseField(p({ type: "integer" }), "5", false)).toEqual({ ok: true, value: 5 });
    expect(parseField(p({ type: "integer" }), "1.5", false)).toEqual({ ok: false, error: "1.5 is not a whole number" });
    expect(parseField(p({ type: "number" }), "abc", false)).toEqual({ ok: false, error: '"abc" is not a number' });
    expect(parseField(p({ type: "integer" }, 3), "", false)).toEqual({ ok: true, value: undefined, omit: true });
    expect(parseField(p({ type: "boolean" }), "", true)).toEqual({ ok: true, value: true });
    expect(parseField(p({ enum: [1, "two"] }), "1", false)).toEqual({ ok: true, value: "two" });
    expect(parseField(p({ type: "array" }), "[1,2]", false)).toEqual({ ok: true, value: [1, 2] });
    const bad = parseField(p({ type: "object" }), "{oops", false);
    expect(bad.ok).toBe(false);
  });

  test("a value from the conf JSON shows in its param's input as a default does", () => {
    expect(textOf(p({ type: "integer" }), 7)).toBe("7");
    expect(textOf(p({ enum: ["x", "y"] }), "y")).toBe("1");
    expect(textOf(p({ enum: ["x", "y"] }), "z")).toBe("");
    expect(textOf(p({ type: "array" }), [1])).toBe("[\n  1\n]");
    expect(textOf(p({ type: "string" }), { a: 1 })).toBe('{"a":1}');
  });

  test("the conf JSON box: an object, or what is wrong with it", () => {
    expect(parseConf('{"a": [1, 2]}')).toEqual({ ok: true, value: { a: [1, 2] } });
    expect(parseConf("  ")).toEqual({ ok: true, value: {} });
    const bad = parseConf('{"a": 1');
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.error).toStartWith("not valid JSON: ");
    for (const notObject of ["[1]", "null", "3", '"x"'])
      expect(parseConf(notObject)).toEqual({ ok: false, error: "the conf must be a JSON object ({…})" });
  });

  const none = { runId: false, logicalDate: false };

  test("the API's 400 detail is split by param; a conf key that is no param goes to the conf JSON", () => {
    expect(
      triggerErrors(
        "invalid conf: conf.count: 0 is less than the minimum 1; conf.name: expected string, got integer 3",
        ["count", "name"],
        none,
      ),
    ).toEqual({ count: "0 is less than the minimum 1", name: "expected string, got integer 3" });
    expect(triggerErrors("invalid conf: conf.extra.deep: bad; conf.count: low", ["count"], none)).toEqual({
      conf: "extra.deep: bad",
      count: "low",
    });
    expect(triggerErrors("DAG x is not active", [], none)).toEqual({ "": "DAG x is not active" });
  });

  test("a 422 list lands on its conf key or on the run id, logical date or note field, else on the form", () => {
    expect(
      triggerErrors(
        [
          { loc: ["body", "conf", "count"], msg: "bad", type: "value_error" },
          { loc: ["body", "dag_run_id"], msg: "dag_run_id may only contain letters", type: "value_error" },
          { loc: ["body", "logical_date"], msg: "Input should be a valid ISO 8601 datetime", type: "value_error" },
          { loc: ["body", "note"], msg: "too long", type: "value_error" },
          { loc: ["body", "conf"], msg: "Expected object", type: "value_error" },
          { loc: ["body", "nope"], msg: "Extra inputs are not permitted", type: "value_error" },
        ],
        ["count"],
        none,
      ),
    ).toEqual({
      count: "bad",
      run_id: "dag_run_id may only contain letters",
      logical_date: "Input should be a valid ISO 8601 datetime",
      note: "too long",
      conf: "Expected object",
      "": "nope: Extra inputs are not permitted",
    });
  });

  test("a taken run id is the run id's error when one was typed, else the logical date's", () => {
    const taken = "dag run r1 already exists for DAG d";
    expect(triggerErrors(taken, [], { runId: true, logicalDate: true })).toEqual({ run_id: taken });
    expect(triggerErrors(taken, [], { runId: false, logicalDate: true })).toEqual({ logical_date: taken });
    expect(triggerErrors(taken, [], none)).toEqual({ "": taken });
  });
});
