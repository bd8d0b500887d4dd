/**
 * PUT /parseDagFile/{file_token}: parse one DAG file now instead of at the folder's next change. The token is
 * the `file_token` of a DAG response (the file path, base64url). Airflow signs it so a caller cannot name any
 * path; here a token is only accepted when it names a file the store already knows (a DAG's file, or a file
 * with import errors), which every caller can read in GET /dags anyway.
 */
import { Hono } from "hono";
import { NotFoundError } from "../domain";
import type { ApiEnv, ResolvedDeps } from "./deps";
import { teamOf } from "./team";

/** The file_token of a DAG file. */
export const fileToken = (fileloc: string): string => Buffer.from(fileloc).toString("base64url");

const ALL = 1_000_000;

export function dagParseRoutes(deps: ResolvedDeps): Hono<ApiEnv> {
  const { store } = deps;
  const app = new Hono<ApiEnv>();

  app.put("/parseDagFile/:file_token", async (c) => {
    const token = c.req.param("file_token");
    const team = teamOf(c);
    const fileloc = /^[A-Za-z0-9_-]+$/.test(token) ? Buffer.from(token, "base64url").toString() : "";
    const known =
      fileloc !== "" &&
      ((await store.findDags(team, { limit: ALL })).items.some((d) => d.fileloc === fileloc) ||
        (await store.listImportErrors(team, { limit: ALL })).items.some((e) => e.filename === fileloc));
    if (!known) throw new NotFoundError("No DAG file found for this file_token; use the file_token of a DAG from GET /api/v2/dags");
    if (!deps.dagFiles) throw new NotFoundError(`This server syncs no DAGs folder, so it cannot parse ${fileloc}`);
    await deps.dagFiles.reparse(team, fileloc);
    deps.logger.info("DAG file re-parsed on request", { team, file: fileloc, by: c.get("user")?.username ?? null });
    return c.json(null, 201);
  });

  return app;
}
