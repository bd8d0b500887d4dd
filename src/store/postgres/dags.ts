/** DAGs, their content versions and import errors. */
import type { DagSpec, DagRecord, ImportErrorRecord, ListOptions, Page } from "../../domain";
import type { DagHead } from "../ports/lookups";
import { specHash } from "../sqlite/dags";
import { DAG_SORTABLE, IMPORT_ERROR_SORTABLE } from "../sortable";
import { arrayParam, execute, jsonText, Params, query, type Db, type Pool } from "./client";
import { pgPageClause } from "./list-query";
import { DAG_COLUMNS, DAG_FROM, toDag, toImportError, type DagRow } from "./rows";

export async function getDag(db: Db, team: string, dagId: string): Promise<DagRecord | null> {
  const [row] = await query<DagRow>(db, `SELECT ${DAG_COLUMNS} FROM ${DAG_FROM} WHERE d.team = $1 AND d.dag_id = $2`, [team, dagId]);
  return row ? toDag(row) : null;
}

export async function getDagHead(db: Db, team: string, dagId: string): Promise<DagHead | null> {
  const [row] = await query<DagHead>(
    db,
    "SELECT team, dag_id, fileloc, version_id, is_paused, is_active, last_parsed_at FROM dags WHERE team = $1 AND dag_id = $2",
    [team, dagId],
  );
  return row ? { ...row } : null;
}

export async function upsertDag(
  sql: Pool,
  team: string,
  input: { spec: DagSpec; fileloc: string; pausedOnCreate: boolean; now: Date },
): Promise<DagRecord> {
  const { spec, fileloc, now } = input;
  const hash = specHash(spec);
  const paused = input.pausedOnCreate || spec.is_paused_upon_creation === true;
  return sql.begin(async (tx) => {
    // A spec that returns to an earlier content reuses that version instead of minting a duplicate. Two
    // replicas parsing the same file race here: DO NOTHING waits for the winner, the SELECT then sees it.
    let [version] = await query<{ id: number }>(
      tx,
      `INSERT INTO dag_versions (team, dag_id, hash, spec, created_at) VALUES ($1, $2, $3, $4::text::jsonb, $5)
       ON CONFLICT (team, dag_id, hash) DO NOTHING RETURNING id`,
      [team, spec.dag_id, hash, jsonText(spec), now],
    );
    version ??= (
      await query<{ id: number }>(tx, "SELECT id FROM dag_versions WHERE team = $1 AND dag_id = $2 AND hash = $3", [
        team,
        spec.dag_id,
        hash,
      ])
    )[0];
    if (!version) throw new Error(`dag_versions row of ${team}/${spec.dag_id} vanished while it was being upserted`);
    await execute(
      tx,
      `INSERT INTO dags (team, dag_id, fileloc, version_id, is_paused, is_active, tags, last_parsed_at) VALUES ($1, $2, $3, $4, $5, true, $6::text[], $7)
       ON CONFLICT (team, dag_id) DO UPDATE SET fileloc = excluded.fileloc, version_id = excluded.version_id, is_active = true,
         tags = excluded.tags, last_parsed_at = excluded.last_parsed_at`,
      [team, spec.dag_id, fileloc, version.id, paused, spec.tags ?? [], now],
    );
    return (await getDag(tx, team, spec.dag_id)) as DagRecord;
  }) as Promise<DagRecord>;
}

export async function listDags(
  db: Db,
  team: string,
  opts: ListOptions & { only_active?: boolean; paused?: boolean; tags?: string[] } = {},
): Promise<Page<DagRecord>> {
  const p = new Params();
  const where: string[] = [`d.team = ${p.add(team)}`];
  if (opts.only_active) where.push("d.is_active");
  if (opts.paused !== undefined) where.push(`d.is_paused = ${p.add(opts.paused)}`);
  // Airflow's default tags match mode: a DAG matches when it has any of the tags.
  if (opts.tags?.length) where.push(`d.tags && ${p.add(arrayParam(opts.tags))}::text[]`);
  const filter = ` WHERE ${where.join(" AND ")}`;
  const filterParams = [...p.values];
  const page = pgPageClause(opts, DAG_SORTABLE, "dag_id", "d.dag_id", p);
  const rows = await query<DagRow>(db, `SELECT ${DAG_COLUMNS} FROM ${DAG_FROM}${filter}${page}`, p.values);
  const [{ n }] = (await query<{ n: number }>(db, `SELECT count(*) AS n FROM dags d${filter}`, filterParams)) as [{ n: number }];
  return { items: rows.map(toDag), total: n };
}

export async function setDagPaused(db: Db, team: string, dagId: string, paused: boolean): Promise<DagRecord | null> {
  await execute(db, "UPDATE dags SET is_paused = $1 WHERE team = $2 AND dag_id = $3", [paused, team, dagId]);
  return getDag(db, team, dagId);
}

export async function deactivateDagsOfFile(db: Db, team: string, fileloc: string, keepDagIds: string[]): Promise<void> {
  await execute(db, "UPDATE dags SET is_active = false WHERE team = $1 AND fileloc = $2 AND is_active AND dag_id <> ALL($3::text[])", [
    team,
    fileloc,
    arrayParam(keepDagIds),
  ]);
}

export async function getDagVersion(db: Db, versionId: number): Promise<DagSpec | null> {
  const [row] = await query<{ spec: DagSpec }>(db, "SELECT spec FROM dag_versions WHERE id = $1", [versionId]);
  return row ? row.spec : null;
}

export async function replaceImportErrors(sql: Pool, team: string, filename: string, errors: string[], now: Date): Promise<void> {
  await sql.begin(async (tx) => {
    await execute(tx, "DELETE FROM import_errors WHERE team = $1 AND filename = $2", [team, filename]);
    if (errors.length)
      await execute(
        tx,
        `INSERT INTO import_errors (team, filename, stack_trace, timestamp)
         SELECT $1, $2, e, $3 FROM unnest($4::text[]) WITH ORDINALITY AS u(e, ord) ORDER BY ord`,
        [team, filename, now, arrayParam(errors)],
      );
  });
}

const IMPORT_ERROR_COLUMNS = "id, team, filename, stack_trace, timestamp";

export async function listImportErrors(
  db: Db,
  team: string,
  opts: ListOptions & { filename_pattern?: string } = {},
): Promise<Page<ImportErrorRecord>> {
  const p = new Params();
  const pattern = opts.filename_pattern !== undefined ? ` AND filename ILIKE ${p.add(opts.filename_pattern)}` : "";
  const where = ` WHERE team = ${p.add(team)}${pattern}`;
  const filterParams = [...p.values];
  const page = pgPageClause(opts, IMPORT_ERROR_SORTABLE, "id", "id", p);
  const rows = await query<ImportErrorRecord>(db, `SELECT ${IMPORT_ERROR_COLUMNS} FROM import_errors${where}${page}`, p.values);
  const [{ n }] = (await query<{ n: number }>(db, `SELECT count(*) AS n FROM import_errors${where}`, filterParams)) as [{ n: number }];
  return { items: rows.map(toImportError), total: n };
}

export async function getImportError(db: Db, team: string, id: number): Promise<ImportErrorRecord | null> {
  const [row] = await query<ImportErrorRecord>(db, `SELECT ${IMPORT_ERROR_COLUMNS} FROM import_errors WHERE team = $1 AND id = $2`, [
    team,
    id,
  ]);
  return row ? toImportError(row) : null;
}
