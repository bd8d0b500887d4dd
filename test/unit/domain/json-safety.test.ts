import { describe, expect, test } from "bun:test";
import { ValidationError, assertStorableJson, findJsonProblem, storableText } from "../../../src/domain";

/** `levels` objects nested: {a:{a:…{}}}; the outermost is level 1. */
function nested(levels: number): Record<string, unknown> {
  let v: Record<string, unknown> = {};
  for (let i = 1; i < levels; i++) v = { a: v };
  return v;
}

describe("findJsonProblem", () => {
  test.each([
    ["plain JSON", { a: [1, "x", null, true, { b: "é😀" }] }, null],
    ["NUL in a string", { a: { b: "x\u0000" } }, "a.b contains U+0000 (NUL)"],
    ["NUL in an array item", { a: [1, "\u0000"] }, "a[1] contains U+0000 (NUL)"],
    ["NUL in a key", { "k\u0000": 1 }, '["k\\u0000"] (a key) contains U+0000 (NUL)'],
    ["a lone high surrogate", { a: "x\ud800" }, "a contains a lone UTF-16 surrogate (U+D800)"],
    ["a lone low surrogate", ["\udc01y"], "[0] contains a lone UTF-16 surrogate (U+DC01)"],
    ["an odd key path", { "two words": { "x.y": "\u0000" } }, '["two words"]["x.y"] contains U+0000'],
    ["a top-level string", "\u0000", "the value contains U+0000"],
    ["the first problem in document order", { a: "\ud800", b: "\u0000" }, "a contains a lone"],
  ])("%s", (_n, value, want) => {
    const p = findJsonProblem(value);
    if (want === null) expect(p).toBeNull();
    else expect(p!.message).toStartWith(want);
  });

  test.each([
    [64, false, null],
    [65, false, "JSON nested deeper than 64 levels at a.a.a.a.a.a.a.a…"],
    [65, true, null], // a request body's own braces are an envelope, not a level
    [66, true, "JSON nested deeper than 64 levels at a.a.a.a.a.a.a.a…"],
  ])("%i levels (envelope %p) → %p", (levels, envelope, want) => {
    const p = findJsonProblem(nested(levels), { envelope });
    if (want === null) expect(p).toBeNull();
    else expect(p!.message).toStartWith(want);
  });

  test("the path names the root it is given and stops after 8 segments", () => {
    expect(findJsonProblem(nested(70), { root: ["conf"] })!.path).toBe("conf.a.a.a.a.a.a.a…");
    expect(findJsonProblem([[[["\u0000"]]]], { root: ["x"] })!.path).toBe("x[0][0][0][0]");
  });

  test("depthOnly skips the text checks (JSON kept in a string stores `\\u0000` as six characters)", () => {
    expect(findJsonProblem({ a: "\u0000" }, { depthOnly: true })).toBeNull();
    expect(findJsonProblem(nested(65), { depthOnly: true })!.message).toContain("deeper than 64");
  });

  test("nesting far deeper than any stack checks without overflowing", () => {
    const deep = JSON.parse(`${"[".repeat(200_000)}${"]".repeat(200_000)}`);
    expect(findJsonProblem(deep)!.message).toContain("deeper than 64 levels");
  });
});

test("assertStorableJson throws a ValidationError naming the field", () => {
  expect(() => assertStorableJson({ a: "\u0000" }, "conf")).toThrow(ValidationError);
  expect(() => assertStorableJson({ a: "\u0000" }, "conf")).toThrow("conf.a contains U+0000 (NUL)");
  expect(() => assertStorableJson({ a: "ok" }, "conf")).not.toThrow();
});

describe("storableText (log lines)", () => {
  test.each([
    ["plain", "hello é 😀", "hello é 😀"],
    ["NUL", "a\u0000b\u0000", "a\uFFFDb\uFFFD"],
    ["lone surrogate", "x\ud800y", "x\uFFFDy"],
    ["a pair is kept", "\ud83d\ude00", "😀"],
  ])("%s", (_n, input, want) => {
    expect(storableText(input)).toBe(want);
  });
});
