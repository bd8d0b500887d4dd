/**
 * The REST API on a mapped task, on SQLite and Postgres: a downstream's `…/dependencies` names its mapped
 * upstream with the instances counted by state (the removed ones of a re-expansion left out), and the task
 * says `is_mapped`.
 */
import { describe, expect, test } from "bun:test";
import { parseDagSpec } from "../../../src/domain/schemas";
import { forEachApiStore, NOW } from "./harness";

forEachApiStore((makeHarness) => {
  describe("a mapped upstream", () => {
    test("dependencies count its instances by state; tasks say is_mapped", async () => {
      const h = await makeHarness();
      const spec = parseDagSpec({
        dag_id: "fan",
        tasks: [
          { task_id: "each", operator: "bash", bash_command: "true", expand: { x: [1, 2, 3, 4] } },
          { task_id: "sum", operator: "bash", bash_command: "true", upstream: ["each"] },
        ],
      });
      await h.store.upsertDag("default", { spec, fileloc: "/dags/fan.json", pausedOnCreate: false, now: NOW });
      await h.call("POST", "/api/v2/dags/fan/dagRuns", { body: { dag_run_id: "r1", logical_date: null } });
      const each = (await h.store.getTaskInstance("default", "fan", "r1", "each"))!;
      await h.store.expandTaskInstances([{ id: each.id, count: 4 }], NOW);
      const [snap] = await h.store.loadRunSnapshots([each.dag_run_id]);
      const instances = snap!.tis.filter((t) => t.task_id === "each").sort((a, b) => a.map_index - b.map_index);
      const to = ["success", "running", "success", "removed"] as const;
      for (const [i, ti] of instances.entries()) {
        if (to[i] === "removed") await h.store.applyTransitions([{ id: ti.id, from: ["none"], to: "removed" }], NOW);
        else {
          await h.store.applyTransitions([{ id: ti.id, from: ["none"], to: "scheduled" }], NOW);
          await h.store.applyTransitions([{ id: ti.id, from: ["scheduled"], to: "running" }], NOW);
        }
        if (to[i] === "success") await h.store.applyTransitions([{ id: ti.id, from: ["running"], to: "success" }], NOW);
      }
      const deps = await h.json("GET", "/api/v2/dags/fan/dagRuns/r1/taskInstances/sum/dependencies");
      expect(deps.status).toBe(200);
      expect(deps.body.dependencies.find((d: { name: string }) => d.name === "Trigger Rule")?.reason).toBe(
        "Task's trigger rule 'all_success' requires its upstream tasks to finish; still waiting for: each=[success×2, running×1].",
      );
      const tasks = (await h.json("GET", "/api/v2/dags/fan/tasks")).body.tasks;
      expect(tasks.map((t: { task_id: string; is_mapped: boolean }) => [t.task_id, t.is_mapped])).toEqual([
        ["each", true],
        ["sum", false],
      ]);
    });
  });
});
