import { describe, expect, test } from "bun:test";
import { errorsByParam, fieldKind, initialText, parseField, type ParamSpec } from "../../../src/ui/app/params-form";

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

  test("the API's 400 detail is split by param, the rest kept for the form", () => {
    expect(errorsByParam("invalid conf: conf.count: 0 is less than the minimum 1; conf.name: expected string, got integer 3")).toEqual({
      count: "0 is less than the minimum 1",
      name: "expected string, got integer 3",
    });
    expect(errorsByParam("DAG x is not active")).toEqual({ "": "DAG x is not active" });
  });

  test("a 422 list lands on its conf key, or on the form with its location", () => {
    expect(
      errorsByParam([
        { loc: ["body", "conf", "count"], msg: "bad", type: "value_error" },
        { loc: ["body", "dag_run_id"], msg: "dag_run_id may only contain letters", type: "value_error" },
      ]),
    ).toEqual({ count: "bad", "": "dag_run_id: dag_run_id may only contain letters" });
  });
});
