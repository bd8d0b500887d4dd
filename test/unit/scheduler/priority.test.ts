import { expect, test } from "bun:test";
import { effectivePriorityWeights } from "../../../src/scheduler";
import { dag } from "./helpers";

// Diamond: start → left, right → join; weights 1, 2, 3, 4.
const diamond = (weight_rule: string) =>
  dag(
    [
      { task_id: "start", priority_weight: 1 },
      { task_id: "left", upstream: ["start"], priority_weight: 2 },
      { task_id: "right", upstream: ["start"], priority_weight: 3 },
      { task_id: "join", upstream: ["left", "right"], priority_weight: 4 },
    ],
    { default_args: { weight_rule } },
  );

test.each([
  // downstream: own + every descendant once (join is reached through both branches but counted once).
  ["downstream", { start: 10, left: 6, right: 7, join: 4 }],
  // upstream: own + every ancestor once.
  ["upstream", { start: 1, left: 3, right: 4, join: 10 }],
  ["absolute", { start: 1, left: 2, right: 3, join: 4 }],
])("weight_rule %s", (rule, expected) => {
  expect(Object.fromEntries(effectivePriorityWeights(diamond(rule)))).toEqual(expected);
});

test("the default rule is downstream, and each task uses its own rule", () => {
  const spec = dag([{ task_id: "a" }, { task_id: "b", upstream: ["a"] }, { task_id: "c", upstream: ["b"], weight_rule: "upstream" }]);
  expect(Object.fromEntries(effectivePriorityWeights(spec))).toEqual({ a: 3, b: 2, c: 3 });
});
