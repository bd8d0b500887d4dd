/** DAGs, their content versions and import errors. */
import type { DagSpec, DagRecord, ImportErrorRecord, ListOptions, Page } from "../../domain";
import { specHash } from "../sqlite/dags";
import { DAG_SORTABLE, IMPORT_ERROR_SORTABLE } from "../sortable";
import { arrayParam, execute, jsonText, Params, query, type Db, type Pool } from "./client";
import { pgPageClause } from "./list-query";
import { DAG_COLUMNS, DAG_FROM, toDag, toImportError, type DagRow } from "./rows";

export async function getDag(db: Db, dagId: string): Promise<DagRecord | null> {
  const [row] = await query<DagRow>(db, `SELECT ${DAG_COLUMNS} FROM ${DAG_FROM} WHERE d.dag_id = $1`, [dagId]);
  return row ? toDag(row) : null;
}

export async function upsertDag(
  sql: Pool,
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
      `INSERT INTO dag_versions (dag_id, hash, spec, created_at) VALUES ($1, $2, $3::text::jsonb, $4)
       ON CONFLICT (dag_id, hash) DO NOTHING RETURNING id`,
      [spec.dag_id, hash, jsonText(spec), now],
    );
    version ??= (await query<{ id: number }>(tx, "SELECT id FROM dag_versions WHERE dag_id = $1 AND hash = $2", [spec.dag_id, hash]))[0]!;
    await execute(
      tx,
      `INSERT INTO dags (dag_id, fileloc, version_id, is_paused, is_active, tags, last_parsed_at) VALUES ($1, $2, $3, $4, true, $5::text[], $6)
       ON CONFLICT (dag_id) DO UPDATE SET fileloc = excluded.fileloc, version_id = excluded.version_id, is_active = true,
         tags = excluded.tags, last_parsed_at = excluded.last_parsed_at`,
      [spec.dag_id, fileloc, version.id, paused, spec.tags ?? [], now],
    );
    return (await getDag(tx, spec.dag_id))!;
  }) as Promise<DagRecord>;
}

export async function listDags(
  db: Db,
  opts: ListOptions & { only_active?: boolean; paused?: boolean; tags?: string[] } = {},
): Promise<Page<DagRecord>> {
  const p = new Params();
  const where: string[] = [];
  if (opts.only_active) where.push("d.is_active");
  if (opts.paused !== undefined) where.push(`d.is_paused = ${p.add(opts.paused)}`);
  // Airflow's default tags match mode: a DAG matches when it has any of the tags.
  if (opts.tags?.length) where.push(`d.tags && ${p.add(arrayParam(opts.tags))}::text[]`);
  const filter = where.length ? ` WHERE ${where.join(" AND ")}` : "";
  const filterParams = [...p.values];
  const page = pgPageClause(opts, DAG_SORTABLE, "dag_id", "d.dag_id", p);
  const rows = await query<DagRow>(db, `SELECT ${DAG_COLUMNS} FROM ${DAG_FROM}${filter}${page}`, p.values);
  const [{ n }] = (await query<{ n: number }>(db, `SELECT count(*) AS n FROM dags d${filter}`, filterParams)) as [{ n: number }];
  return { items: rows.map(toDag), total: n };
}

export async function setDagPaused(db: Db, dagId: string, paused: boolean): Promise<DagRecord | null> {
  await execute(db, "UPDATE dags SET is_paused = $1 WHERE dag_id = $2", [paused, dagId]);
  return getDag(db, dagId);
}

export async function deactivateDagsOfFile(db: Db, fileloc: string, keepDagIds: string[]): Promise<void> {
  await execute(db, "UPDATE dags SET is_active = false WHERE fileloc = $1 AND is_active AND dag_id <> ALL($2::text[])", [
    fileloc,
    arrayParam(keepDagIds),
  ]);
}

export async function getDagVersion(db: Db, versionId: number): Promise<DagSpec | null> {
  const [row] = await query<{ spec: DagSpec }>(db, "SELECT spec FROM dag_versions WHERE id = $1", [versionId]);
  return row ? row.spec : null;
}

export async function replaceImportErrors(sql: Pool, filename: string, errors: string[], now: Date): Promise<void> {
  await sql.begin(async (tx) => {
    await execute(tx, "DELETE FROM import_errors WHERE filename = $1", [filename]);
    if (errors.length)
      await execute(
        tx,
        "INSERT INTO import_errors (filename, stack_trace, timestamp) SELECT $1, e, $2 FROM unnest($3::text[]) WITH ORDINALITY AS u(e, ord) ORDER BY ord",
        [filename, now, arrayParam(errors)],
      );
  });
}

export async function listImportErrors(db: Db, opts: ListOptions & { filename_pattern?: string } = {}): Promise<Page<ImportErrorRecord>> {
  const p = new Params();
  const where = opts.filename_pattern !== undefined ? ` WHERE filename ILIKE ${p.add(opts.filename_pattern)}` : "";
  const filterParams = [...p.values];
  const page = pgPageClause(opts, IMPORT_ERROR_SORTABLE, "id", "id", p);
  const rows = await query<ImportErrorRecord>(
    db,
    `SELECT id, filename, stack_trace, timestamp FROM import_errors${where}${page}`,
    p.values,
  );
  const [{ n }] = (await query<{ n: number }>(db, `SELECT count(*) AS n FROM import_errors${where}`, filterParams)) as [{ n: number }];
  return { items: rows.map(toImportError), total: n };
}

export async function getImportError(db: Db, id: number): Promise<ImportErrorRecord | null> {
  const [row] = await query<ImportErrorRecord>(db, "SELECT id, filename, stack_trace, timestamp FROM import_errors WHERE id = $1", [id]);
  return row ? toImportError(row) : null;
}
