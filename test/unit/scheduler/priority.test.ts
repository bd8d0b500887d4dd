import { expect, test } from "bun:test";
import { effectivePriorityWeights } from "../../../src/scheduler";
import { dag } from "./helpers";
import { seededRandom } from "../../support/seeded-random";

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

/** The rule's definition, walked task by task: own weight plus every task reachable along the rule's edges, once. */
function byDefinition(spec: ReturnType<typeof dag>): Record<string, number> {
  const tasks = new Map(spec.tasks.map((t) => [t.task_id, t]));
  const next = (id: string, rule: string) =>
    rule === "upstream" ? tasks.get(id)!.upstream : spec.tasks.filter((t) => t.upstream.includes(id)).map((t) => t.task_id);
  return Object.fromEntries(
    spec.tasks.map((t) => {
      if (t.weight_rule === "absolute") return [t.task_id, t.priority_weight];
      const seen = new Set<string>();
      const stack = [...next(t.task_id, t.weight_rule)];
      while (stack.length) {
        const id = stack.pop()!;
        if (!seen.has(id)) seen.add(id), stack.push(...next(id, t.weight_rule));
      }
      return [t.task_id, [...seen].reduce((w, id) => w + tasks.get(id)!.priority_weight, t.priority_weight)];
    }),
  );
}

test.each(Array.from({ length: 40 }, (_, i) => i + 1))("random DAG %i: every rule's weights as the definition walks them", (seed) => {
  const r = seededRandom(seed);
  const n = 2 + r.int(40);
  const rules = ["downstream", "upstream", "absolute"];
  const tasks = Array.from({ length: n }, (_, i) => ({
    task_id: `t${i}`,
    priority_weight: 1 + r.int(5),
    weight_rule: r.chance(0.7) ? "downstream" : r.pick(rules),
    // Edges only from earlier tasks: acyclic, with chains (one upstream), fan-ins and diamonds.
    upstream: i ? [...new Set(Array.from({ length: r.chance(0.5) ? 1 : r.int(4) }, () => `t${r.int(i)}`))] : [],
  }));
  const spec = dag(tasks);
  expect(Object.fromEntries(effectivePriorityWeights(spec))).toEqual(byDefinition(spec));
});

test("a 20,000-task chain is weighed: each task counts every task after it", () => {
  const n = 20_000;
  const spec = dag(Array.from({ length: n }, (_, i) => ({ task_id: `t${i}`, upstream: i ? [`t${i - 1}`] : [] })));
  const weights = effectivePriorityWeights(spec);
  expect([weights.get("t0"), weights.get(`t${n / 2}`), weights.get(`t${n - 1}`)]).toEqual([n, n / 2, 1]);
});
