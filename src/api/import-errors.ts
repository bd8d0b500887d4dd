/** GET /api/v2/importErrors: DAG files that failed to load, with the field path and reason. */
import { Hono } from "hono";
import { z } from "zod";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { mapOrderBy, pagingQuery, parseQuery } from "./validate";
import { serializeImportError } from "./serialize";

const ListQuery = z.object(pagingQuery);

export function importErrorRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const app = new Hono<ApiEnv>();
  app.get("/importErrors", async (c) => {
    const q = parseQuery(c, ListQuery);
    const page = await deps.store.listImportErrors({
      limit: q.limit,
      offset: q.offset,
      order_by: mapOrderBy(q.order_by, { import_error_id: "id" }),
    });
    return c.json({ import_errors: page.items.map(serializeImportError), total_entries: page.total });
  });
  return app;
}
