/**
 * GET /api/v2/leoflow/dags/{dag_id}/structure: a DAG's tasks with only what the DAG page's grid and graph draw (the
 * task id, its upstream ids, whether it is mapped), in the DAG's order. The task list's TaskResponse is ~650 bytes of
 * JSON a task, most of it fields the page never shows (a DAG of 10,000 tasks: 6.7 MB); these are ~60 (0.6 MB). The
 * page reads them every time it opens, so the answer carries an ETag: a browser that has it asks again with
 * If-None-Match and gets a 304 until the DAG changes (Cache-Control: no-cache revalidates on every open).
 */
import { Hono } from "hono";
import { etag } from "hono/etag";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { getDagOr404 } from "./lookups";
import { teamOf } from "./team";
import { type DagSpec, isMapped } from "../domain";

export function dagStructureRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  // Weak: the body a remote client gets may be gzipped (compress.ts) and is the same JSON.
  app.get("/leoflow/dags/:dag_id/structure", etag({ weak: true, generateDigest: hashDigest }), async (c) => {
    const dag = await getDagOr404(deps.store, teamOf(c), c.req.param("dag_id"));
    c.header("Cache-Control", "private, no-cache");
    return c.json(dagStructure(dag.spec));
  });
  return app;
}

/** The tasks as the page draws them; `is_mapped` only where true (most tasks are not mapped). */
export function dagStructure(spec: DagSpec) {
  const tasks = spec.tasks.map((t) => ({ task_id: t.task_id, upstream_task_ids: t.upstream, ...(isMapped(t) ? { is_mapped: true } : {}) }));
  return { tasks, total_entries: tasks.length };
}

/** 64 bits of wyhash (Bun.hash): a validator, not a signature, and ~20× SHA-1's speed on a MB of JSON. */
function hashDigest(body: Uint8Array): ArrayBuffer {
  const out = new DataView(new ArrayBuffer(8));
  out.setBigUint64(0, BigInt(Bun.hash(body)));
  return out.buffer;
}
