/** Airflow's /api/v2/importErrors: DAG files that failed to load, with the field path and reason; list and get. */
import { Hono } from "hono";
import { z } from "zod";
import { NotFoundError, lazySchema } from "../domain";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { mapOrderBy, pagingQuery, parsePathParam, parseQuery } from "./validate";
import { serializeImportError } from "./serialize";
import { teamOf } from "./team";
import { likePattern } from "./list-params";

/** `filename_pattern`: Airflow's `*_pattern`, matched anywhere in the file name (list-params.ts). */
export const ListQuery = lazySchema(() => z.object({ ...pagingQuery, filename_pattern: likePattern }));
const ImportErrorId = lazySchema(() => z.coerce.number().int().min(0));

export function importErrorRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.get("/importErrors", async (c) => {
    const q = parseQuery(c, ListQuery);
    const page = await deps.store.listImportErrors(teamOf(c), {
      limit: q.limit,
      offset: q.offset,
      order_by: mapOrderBy(q.order_by, { import_error_id: "id" }),
      filename_pattern: q.filename_pattern,
    });
    return c.json({ import_errors: page.items.map(serializeImportError), total_entries: page.total });
  });

  app.get("/importErrors/:import_error_id", async (c) => {
    const id = parsePathParam("import_error_id", c.req.param("import_error_id"), ImportErrorId);
    const e = await deps.store.getImportError(teamOf(c), id);
    if (!e) throw new NotFoundError(`The ImportError with import_error_id: \`${id}\` was not found`);
    return c.json(serializeImportError(e));
  });
  return app;
}
