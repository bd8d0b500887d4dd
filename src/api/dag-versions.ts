/** A DAG's versions and its source (Airflow's /dags/{dag_id}/dagVersions and /dagSources/{dag_id}). */
import { Hono } from "hono";
import { z } from "zod";
import { NotFoundError, lazySchema } from "../domain";
import type { DagVersionRecord } from "../store";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { ApiError } from "./errors";
import { getDagOr404 } from "./lookups";
import { teamOf } from "./team";
import { dagVersion } from "./serialize";
import { pagingQuery, parsePathParam, parseQuery } from "./validate";

const versionNumber = lazySchema(() =>
  z.coerce.number({ error: "Input should be a valid integer" }).int("Input should be a valid integer"),
);

export const ListVersionsQuery = lazySchema(() =>
  z.object({
    ...pagingQuery,
    version_number: versionNumber.optional(),
    // Leoflow DAGs come from one folder, not bundles: a bundle filter matches no version.
    bundle_name: z.string().optional(),
    bundle_version: z.string().optional(),
  }),
);

const serializeVersion = (v: DagVersionRecord) => dagVersion(v.dag_id, v.version_id, v);

export function dagVersionRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const { store } = deps;
  const app = new Hono<ApiEnv>();

  app.get("/dags/:dag_id/dagVersions", async (c) => {
    const dagId = c.req.param("dag_id");
    const q = parseQuery(c, ListVersionsQuery);
    // `~` lists the versions of every DAG.
    if (dagId !== "~") await getDagOr404(store, teamOf(c), dagId);
    if (q.bundle_name || q.bundle_version) return c.json({ dag_versions: [], total_entries: 0 });
    const page = await store.listDagVersions(teamOf(c), {
      dag_id: dagId === "~" ? undefined : dagId,
      version_number: q.version_number,
      limit: q.limit,
      offset: q.offset,
      order_by: q.order_by,
    });
    return c.json({ dag_versions: page.items.map(serializeVersion), total_entries: page.total });
  });

  app.get("/dags/:dag_id/dagVersions/:version_number", async (c) => {
    const dagId = c.req.param("dag_id");
    const n = parsePathParam("version_number", c.req.param("version_number"), versionNumber);
    const [version] = (await store.listDagVersions(teamOf(c), { dag_id: dagId, version_number: n, limit: 1 })).items;
    if (!version) throw new NotFoundError(`The DagVersion with dag_id: \`${dagId}\` and version_number: \`${n}\` was not found`);
    return c.json(serializeVersion(version));
  });

  app.get("/dagSources/:dag_id", async (c) => {
    const dag = await getDagOr404(store, teamOf(c), c.req.param("dag_id"));
    const { version_number } = parseQuery(c, z.object({ version_number: versionNumber.optional() }));
    const accept = c.req.header("accept") ?? "*/*";
    const wantsText = accept.includes("text/plain");
    if (!wantsText && !/application\/json|\*\/\*|application\/\*/.test(accept))
      throw new ApiError(406, `Not Acceptable: the DAG source is served as application/json or text/plain, not ${accept}`);
    // version_number is the per-DAG number (the current version's, read here); only the current version's source is kept.
    const [current] = (await store.listDagVersions(dag.team, { dag_id: dag.dag_id, version_id: dag.version_id, limit: 1 })).items;
    const currentNumber = current?.version_number ?? null;
    if (version_number !== undefined && version_number !== currentNumber) {
      const known = (await store.listDagVersions(dag.team, { dag_id: dag.dag_id, version_number, limit: 1 })).total > 0;
      throw new NotFoundError(
        known
          ? `Leoflow keeps the source of a DAG's current version only (${currentNumber}), not of version ${version_number}; omit version_number`
          : `The DagVersion with dag_id: \`${dag.dag_id}\` and version_number: \`${version_number}\` was not found`,
      );
    }
    const file = Bun.file(dag.fileloc);
    if (!(await file.exists())) throw new NotFoundError(`The source of Dag \`${dag.dag_id}\` is gone: ${dag.fileloc} no longer exists`);
    const content = await file.text();
    if (wantsText) return c.body(content, 200, { "content-type": "text/plain; charset=utf-8" });
    return c.json({ content, dag_id: dag.dag_id, version_number: currentNumber, dag_display_name: dag.dag_id });
  });

  return app;
}
