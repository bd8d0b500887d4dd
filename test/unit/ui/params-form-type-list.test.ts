/** The trigger form with params written as JSON Schema type lists (Airflow's optional param) and bare values. */
import { describe, expect, test } from "bun:test";
import { fieldKind, initialText, parseField, type ParamSpec, typeHint } from "../../../src/ui/app/params-form";

const p = (schema: ParamSpec["schema"], value: unknown = null): ParamSpec => ({ value, description: null, schema });

describe("a param whose type is a list", () => {
  test('["null", T] gets T\'s input, and its hint names both', () => {
    expect(fieldKind(p({ type: ["null", "string"] }))).toBe("string");
    expect(fieldKind(p({ type: ["null", "integer"] }, 3))).toBe("integer");
    expect(fieldKind(p({ type: ["object", "null"] }))).toBe("json");
    expect(fieldKind(p({ type: ["null"] }))).toBe("null");
    expect(typeHint(p({ type: ["null", "string"] }))).toBe("type null or string");
    expect(typeHint(p({ type: "integer" }))).toBe("type integer");
    expect(typeHint(p({}, "hello"))).toBeNull();
  });

  test("an empty input of an optional param sends null, as Airflow's form does; a value is typed", () => {
    expect(parseField(p({ type: ["null", "string"] }), "", false)).toEqual({ ok: true, value: null });
    expect(parseField(p({ type: ["null", "string"] }), "hi", false)).toEqual({ ok: true, value: "hi" });
    expect(parseField(p({ type: ["null", "integer"] }, 3), " ", false)).toEqual({ ok: true, value: null });
    expect(parseField(p({ type: ["null", "integer"] }), "4", false)).toEqual({ ok: true, value: 4 });
  });

  test("several types other than null are typed as JSON", () => {
    expect(fieldKind(p({ type: ["string", "integer"] }, "a"))).toBe("json");
    expect(initialText(p({ type: ["string", "integer"] }, "a"))).toBe('"a"');
    expect(parseField(p({ type: ["string", "integer"] }), "5", false)).toEqual({ ok: true, value: 5 });
  });

  test("a bare value's param (no schema) gets the input of its default's type", () => {
    expect(fieldKind(p({}, "hello"))).toBe("string");
    expect(initialText(p({}, "hello"))).toBe("hello");
  });
});
