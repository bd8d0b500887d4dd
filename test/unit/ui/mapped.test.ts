/** A folded mapped cell's states in words, in the order the server counted them (most telling first). */
import { expect, test } from "bun:test";
import { describeMapped } from "../../../src/ui/app/mapped";

test("a folded cell's states read as state×count, in the order given", () => {
  expect(describeMapped({ mapped_states: { running: 1, failed: 1, success: 48 } })).toBe("running×1, failed×1, success×48");
  expect(describeMapped({ mapped_states: { none: 2 } })).toBe("none×2");
});

test("an unmapped cell has no mapped states to describe", () => {
  expect(describeMapped({})).toBe("");
});
