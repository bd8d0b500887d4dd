/** DAGs, their content versions and import errors. */
import type { Database } from "bun:sqlite";
import type { DagSpec, DagRecord, ImportErrorRecord, ListOptions, Page } from "../../domain";
import { DAG_SORTABLE, IMPORT_ERROR_SORTABLE } from "../sortable";
import { pageClause } from "./list-query";
import type { DagHead } from "../ports/lookups";
import { DAG_COLUMNS, DAG_FROM, toDag, toDagHead, toImportError, type DagRow, type ImportErrorRow } from "./rows";

/** JSON with object keys sorted at every depth, so equal specs hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(o)
          .sort()
          .map((k) => [k, o[k]]),
      );
    }
    return v;
  });
}

/** Content hash of a spec: a changed hash means a new version. */
export function specHash(spec: DagSpec): string {
  return new Bun.CryptoHasher("sha256").update(canonicalJson(spec)).digest("hex");
}

export function getDag(db: Database, team: string, dagId: string): DagRecord | null {
  const row = db.query(`SELECT ${DAG_COLUMNS} FROM ${DAG_FROM} WHERE d.team = ? AND d.dag_id = ?`).get(team, dagId) as DagRow | null;
  return row ? toDag(row) : null;
}

export function getDagHead(db: Database, team: string, dagId: string): DagHead | null {
  const row = db
    .query("SELECT team, dag_id, fileloc, version_id, is_paused, is_active, last_parsed_at FROM dags WHERE team = ? AND dag_id = ?")
    .get(team, dagId) as Omit<DagRow, "spec"> | null;
  return row ? toDagHead(row) : null;
}

export function upsertDag(
  db: Database,
  team: string,
  input: { spec: DagSpec; fileloc: string; pausedOnCreate: boolean; now: Date },
): DagRecord {
  const { spec, fileloc, now } = input;
  const hash = specHash(spec);
  const t = now.getTime();
  const tags = JSON.stringify(spec.tags ?? []);
  db.transaction(() => {
    // A spec that returns to an earlier content reuses that version instead of minting a duplicate.
    let version = db.query("SELECT id FROM dag_versions WHERE team = ? AND dag_id = ? AND hash = ?").get(team, spec.dag_id, hash) as {
      id: number;
    } | null;
    version ??= db
      .query("INSERT INTO dag_versions (team, dag_id, hash, spec, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id")
      .get(team, spec.dag_id, hash, JSON.stringify(spec), t) as { id: number };
    const paused = input.pausedOnCreate || spec.is_paused_upon_creation === true ? 1 : 0;
    db.query(
      `INSERT INTO dags (team, dag_id, fileloc, version_id, is_paused, is_active, tags, last_parsed_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?)
       ON CONFLICT (team, dag_id) DO UPDATE SET fileloc = excluded.fileloc, version_id = excluded.version_id, is_active = 1,
         tags = excluded.tags, last_parsed_at = excluded.last_parsed_at`,
    ).run(team, spec.dag_id, fileloc, version.id, paused, tags, t);
  }).immediate();
  return getDag(db, team, spec.dag_id) as DagRecord;
}

export function listDags(
  db: Database,
  team: string,
  opts: ListOptions & { only_active?: boolean; paused?: boolean; tags?: string[] } = {},
): Page<DagRecord> {
  const where: string[] = ["d.team = ?"];
  const params: (string | number)[] = [team];
  if (opts.only_active) where.push("d.is_active = 1");
  if (opts.paused !== undefined) {
    where.push("d.is_paused = ?");
    params.push(opts.paused ? 1 : 0);
  }
  if (opts.tags?.length) {
    // Airflow's default tags match mode: a DAG matches when it has any of the tags.
    where.push("EXISTS (SELECT 1 FROM json_each(d.tags) t WHERE t.value IN (SELECT value FROM json_each(?)))");
    params.push(JSON.stringify(opts.tags));
  }
  const filter = ` WHERE ${where.join(" AND ")}`;
  const page = pageClause(opts, DAG_SORTABLE, "dag_id", "d.dag_id");
  const rows = db.query(`SELECT ${DAG_COLUMNS} FROM ${DAG_FROM}${filter}${page.sql}`).all(...params, ...page.params) as DagRow[];
  const { n } = db.query(`SELECT count(*) AS n FROM dags d${filter}`).get(...params) as { n: number };
  return { items: rows.map(toDag), total: n };
}

export function setDagPaused(db: Database, team: string, dagId: string, paused: boolean): DagRecord | null {
  db.query("UPDATE dags SET is_paused = ? WHERE team = ? AND dag_id = ?").run(paused ? 1 : 0, team, dagId);
  return getDag(db, team, dagId);
}

export function deactivateDagsOfFile(db: Database, team: string, fileloc: string, keepDagIds: string[]): void {
  db.query("UPDATE dags SET is_active = 0 WHERE team = ? AND fileloc = ? AND dag_id NOT IN (SELECT value FROM json_each(?))").run(
    team,
    fileloc,
    JSON.stringify(keepDagIds),
  );
}

export function getDagVersion(db: Database, versionId: number): DagSpec | null {
  const row = db.query("SELECT spec FROM dag_versions WHERE id = ?").get(versionId) as { spec: string } | null;
  return row ? (JSON.parse(row.spec) as DagSpec) : null;
}

export function replaceImportErrors(db: Database, team: string, filename: string, errors: string[], now: Date): void {
  db.transaction(() => {
    db.query("DELETE FROM import_errors WHERE team = ? AND filename = ?").run(team, filename);
    const insert = db.query("INSERT INTO import_errors (team, filename, stack_trace, timestamp) VALUES (?, ?, ?, ?)");
    for (const e of errors) insert.run(team, filename, e, now.getTime());
  }).immediate();
}

const IMPORT_ERROR_COLUMNS = "id, team, filename, stack_trace, timestamp";

export function listImportErrors(
  db: Database,
  team: string,
  opts: ListOptions & { filename_pattern?: string } = {},
): Page<ImportErrorRecord> {
  const where = ` WHERE team = ?${opts.filename_pattern !== undefined ? " AND filename LIKE ?" : ""}`;
  const params = opts.filename_pattern !== undefined ? [team, opts.filename_pattern] : [team];
  const page = pageClause(opts, IMPORT_ERROR_SORTABLE, "id", "id");
  const rows = db
    .query(`SELECT ${IMPORT_ERROR_COLUMNS} FROM import_errors${where}${page.sql}`)
    .all(...params, ...page.params) as ImportErrorRow[];
  const { n } = db.query(`SELECT count(*) AS n FROM import_errors${where}`).get(...params) as { n: number };
  return { items: rows.map(toImportError), total: n };
}

export function getImportError(db: Database, team: string, id: number): ImportErrorRecord | null {
  const row = db
    .query(`SELECT ${IMPORT_ERROR_COLUMNS} FROM import_errors WHERE team = ? AND id = ?`)
    .get(team, id) as ImportErrorRow | null;
  return row ? toImportError(row) : null;
}
