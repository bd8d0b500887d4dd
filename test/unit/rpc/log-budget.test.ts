import { expect, test } from "bun:test";
import { TryLogBudget } from "../../../src/rpc/log-budget";

const T = new Date("2026-03-01T00:00:00Z");
const lines = (...texts: string[]) => texts.map((line) => ({ timestamp: T, stream: "stdout", line }));
const texts = (ls: { line: string }[]) => ls.map((l) => l.line);

test("lines within a try's budget pass whole; the one that would pass it becomes a note, and later ones are dropped", () => {
  const budget = new TryLogBudget(40); // a line costs its UTF-8 bytes plus its stream's name (6 for "stdout")
  expect(texts(budget.admit(1, 1, 0, lines("aaaa", "bbbb"), T))).toEqual(["aaaa", "bbbb"]); // 20 bytes
  const capped = budget.admit(1, 1, 2, lines("cccc", "ddddddddddd", "eeee"), T); // 30 fits, 47 does not
  expect(texts(capped)).toEqual([
    "cccc",
    "this try's log reached the control plane's limit of 40 bytes (--task-log-max-bytes) at line 3; the rest of its lines are dropped",
  ]);
  expect(capped[1]!.stream).toBe("leoflow");
  expect(budget.admit(1, 1, 5, lines("f"), T)).toEqual([]);
});

test("each try has its own budget, counted in bytes; a forgotten try counts afresh", () => {
  const budget = new TryLogBudget(20);
  expect(texts(budget.admit(1, 1, 0, lines("ééééé"), T))).toEqual(["ééééé"]); // 10 bytes + 6
  expect(budget.admit(1, 1, 1, lines("x"), T)).toHaveLength(1); // 23 > 20: the note alone
  expect(budget.admit(1, 2, 0, lines("x"), T)).toEqual(lines("x")); // try 2
  expect(budget.admit(2, 1, 0, lines("x"), T)).toEqual(lines("x")); // another task instance
  budget.forget(1, 1);
  expect(budget.admit(1, 1, 2, lines("x"), T)).toEqual(lines("x"));
});
