/** The checks behind `leoflow serve`'s flags (src/config-rules.ts): each value typed, or one message saying what is expected. */
import { describe, expect, test } from "bun:test";
import * as v from "../../src/config-rules";

const checked = (rule: v.Rule<unknown>, raw: unknown) => rule.check(raw);

describe("config rules", () => {
  test.each<[string, v.Rule<unknown>, unknown, unknown]>([
    ["a string", v.string(), "x", "x"],
    ["a whole number in range", v.number().int().min(0).max(65535), 8080, 8080],
    ["a positive number", v.number().positive(), 0.5, 0.5],
    ["a boolean", v.boolean(), false, false],
    ["one of the values", v.oneOf(["lite", "pro"]), "pro", "pro"],
    ["absent and optional", v.string().min(1).optional(), undefined, undefined],
    ["a URL", v.string().url(), "http://10.0.0.5:8080", "http://10.0.0.5:8080"],
    ["a refined string", v.string().refine((s) => s.endsWith("Mi"), "expects Mi"), "512Mi", "512Mi"],
    ["a transformed value", v.string().transform((s) => s.split(",")), "a,b", ["a", "b"]],
  ])("accepts %s", (_name, rule, raw, value) => {
    expect(checked(rule, raw)).toEqual({ ok: true, value });
  });

  test.each<[string, v.Rule<unknown>, unknown, string]>([
    ["a number for a string", v.string(), 5, "expects text, got 5"],
    ["an empty required string", v.string().min(1), "", "must not be empty"],
    ["a string over its length", v.string().max(3), "abcd", "expects at most 3 characters"],
    ["a pattern mismatch", v.string().regex(/^[a-z]+$/, "expects lowercase letters"), "A1", "expects lowercase letters"],
    ["text for a number", v.number(), "8080", 'expects a number, got "8080"'],
    ["NaN", v.number(), Number.NaN, "expects a number, got NaN"],
    ["a fraction for a whole number", v.number().int(), 1.5, "expects a whole number, got 1.5"],
    ["a number below its minimum", v.number().min(1), 0, "must be at least 1, got 0"],
    ["a number above its maximum", v.number().max(10), 11, "must be at most 10, got 11"],
    ["zero for a positive number", v.number().positive(), 0, "must be more than 0, got 0"],
    ["text for a boolean", v.boolean(), "yes", 'expects true or false, got "yes"'],
    ["a value not listed", v.oneOf(["lite", "pro"]), "turbo", 'expects lite or pro, got "turbo"'],
    ["three values, one not listed", v.oneOf(["a", "b", "c"]), "d", 'expects a, b or c, got "d"'],
    ["not a URL", v.string().url(), "10.0.0.5", 'expects a URL such as http://10.0.0.5:8080, got "10.0.0.5"'],
    ["a failed refinement", v.string().refine((s) => s.endsWith("Mi"), "expects Mi"), "512", "expects Mi"],
    [
      "a parser that throws",
      v.string().transform((s) => {
        throw new Error(`cannot read "${s}"`);
      }),
      "x",
      'cannot read "x"',
    ],
    ["present but invalid, though optional", v.number().min(1).optional(), 0, "must be at least 1, got 0"],
  ])("refuses %s", (_name, rule, raw, message) => {
    expect(checked(rule, raw)).toEqual({ ok: false, message });
  });

  test("a chained rule leaves the rule it came from unchanged", () => {
    const base = v.number();
    base.min(10);
    expect(base.check(1)).toEqual({ ok: true, value: 1 });
  });

  test("an object: every field checked, absent optional ones omitted, one issue per failing field", () => {
    const rule = v.object({ port: v.number().int(), host: v.string().min(1), url: v.string().url().optional() });
    expect(rule.parse({ port: 80, host: "h", extra: 1 })).toEqual({ ok: true, value: { port: 80, host: "h" } });
    expect(rule.parse({ port: 1.5, host: "" })).toEqual({
      ok: false,
      issues: [
        { path: "port", message: "expects a whole number, got 1.5" },
        { path: "host", message: "must not be empty" },
      ],
    });
  });
});
