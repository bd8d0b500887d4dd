/**
 * GET /api/v2/leoflow/dags/{dag_id}/structure: what the DAG page's grid and graph draw of a DAG's tasks (id, upstream
 * ids, mapped or not), the task list's values for those fields in its order, in a fraction of its bytes; a weak ETag
 * that a matching If-None-Match turns into a 304 until the DAG changes.
 */
import { describe, expect, test } from "bun:test";
import { parseDagSpec } from "../../../src/domain/schemas";
import { forEachApiStore, NOW } from "./harness";

const STRUCTURE = "/api/v2/leoflow/dags/fan/structure";

const fan = (extra: { task_id: string; operator: string; upstream?: string[] }[] = []) =>
  parseDagSpec({
    dag_id: "fan",
    tasks: [
      { task_id: "start", operator: "empty" },
      { task_id: "each", operator: "bash", bash_command: "true", expand: { x: [0, 1, 2] }, upstream: ["start"] },
      { task_id: "end", operator: "empty", upstream: ["each", "start"] },
      ...extra,
    ],
  });

forEachApiStore((makeHarness) => {
  async function withFan() {
    const h = await makeHarness();
    await h.store.upsertDag("default", { spec: fan(), fileloc: "/dags/fan.json", pausedOnCreate: false, now: NOW });
    return h;
  }

  describe("DAG structure", () => {
    test("the task list's ids, upstream ids and mapped flag, in its order, and nothing else", async () => {
      const h = await withFan();
      const slim = await h.json("GET", STRUCTURE);
      const full = await h.json("GET", "/api/v2/dags/fan/tasks");
      expect(slim.status).toBe(200);
      expect(slim.body).toEqual({
        tasks: [
          { task_id: "start", upstream_task_ids: [] },
          { task_id: "each", upstream_task_ids: ["start"], is_mapped: true },
          { task_id: "end", upstream_task_ids: ["each", "start"] },
        ],
        total_entries: 3,
      });
      expect(slim.body.tasks.map((t: { task_id: string }) => t.task_id)).toEqual(
        full.body.tasks.map((t: { task_id: string }) => t.task_id),
      );
      for (const [i, t] of full.body.tasks.entries()) {
        expect(slim.body.tasks[i].upstream_task_ids).toEqual(t.upstream_task_ids);
        expect(slim.body.tasks[i].is_mapped ?? false).toBe(t.is_mapped);
      }
    });

    test("a 304 for the ETag the browser holds, a new answer once the DAG changes", async () => {
      const h = await withFan();
      const first = await h.call("GET", STRUCTURE);
      const tag = first.headers.get("etag");
      expect(tag).toMatch(/^W\/"[^"]+"$/);
      expect(first.headers.get("cache-control")).toBe("private, no-cache");

      const again = await h.call("GET", STRUCTURE, { headers: { "If-None-Match": tag as string }, check: false });
      expect(again.status).toBe(304);
      expect(await again.text()).toBe("");
      expect(again.headers.get("etag")).toBe(tag);
      // Another DAG's tag, or none, reads the tasks again.
      expect((await h.call("GET", STRUCTURE, { headers: { "If-None-Match": 'W/"0000"' } })).status).toBe(200);

      await h.store.upsertDag("default", {
        spec: fan([{ task_id: "report", operator: "empty", upstream: ["end"] }]),
        fileloc: "/dags/fan.json",
        pausedOnCreate: false,
        now: NOW,
      });
      const changed = await h.call("GET", STRUCTURE, { headers: { "If-None-Match": tag as string } });
      expect(changed.status).toBe(200);
      expect(changed.headers.get("etag")).not.toBe(tag);
      expect((await changed.json()).tasks.at(-1)).toEqual({ task_id: "report", upstream_task_ids: ["end"] });
    });

    test("a wide DAG's structure is a small part of its task list", async () => {
      const h = await makeHarness();
      const tasks = Array.from({ length: 500 }, (_, i) => ({
        task_id: `task_${i}`,
        operator: "empty",
        upstream: i ? [`task_${i - 1}`] : [],
      }));
      await h.store.upsertDag("default", {
        spec: parseDagSpec({ dag_id: "wide", tasks }),
        fileloc: "/dags/wide.json",
        pausedOnCreate: false,
        now: NOW,
      });
      const slim = await (await h.call("GET", "/api/v2/leoflow/dags/wide/structure")).text();
      const full = await (await h.call("GET", "/api/v2/dags/wide/tasks")).text();
      expect(JSON.parse(slim).total_entries).toBe(500);
      expect(slim.length).toBeLessThan(full.length / 8);
    });

    test("404 for an unknown DAG, 401 without a token", async () => {
      const h = await withFan();
      const missing = await h.json("GET", "/api/v2/leoflow/dags/nope/structure");
      expect(missing.status).toBe(404);
      expect(missing.body.detail).toContain("nope");
      expect((await h.call("GET", STRUCTURE, { token: null })).status).toBe(401);
    });
  });
});
