/** DAGs, their content versions and import errors. */
import type { Database } from "bun:sqlite";
import type { DagSpec, DagRecord, ImportErrorRecord, ListOptions, Page } from "../../domain";
import { DAG_SORTABLE, IMPORT_ERROR_SORTABLE } from "../sortable";
import { pageClause } from "./list-query";
import { DAG_COLUMNS, DAG_FROM, toDag, toImportError, type DagRow, type ImportErrorRow } from "./rows";

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

export function getDag(db: Database, dagId: string): DagRecord | null {
  const row = db.query(`SELECT ${DAG_COLUMNS} FROM ${DAG_FROM} WHERE d.dag_id = ?`).get(dagId) as DagRow | null;
  return row ? toDag(row) : null;
}

export function upsertDag(db: Database, input: { spec: DagSpec; fileloc: string; pausedOnCreate: boolean; now: Date }): DagRecord {
  const { spec, fileloc, now } = input;
  const hash = specHash(spec);
  const t = now.getTime();
  const tags = JSON.stringify(spec.tags ?? []);
  db.transaction(() => {
    // A spec that returns to an earlier content reuses that version instead of minting a duplicate.
    let version = db.query("SELECT id FROM dag_versions WHERE dag_id = ? AND hash = ?").get(spec.dag_id, hash) as { id: number } | null;
    version ??= db
      .query("INSERT INTO dag_versions (dag_id, hash, spec, created_at) VALUES (?, ?, ?, ?) RETURNING id")
      .get(spec.dag_id, hash, JSON.stringify(spec), t) as { id: number };
    const paused = input.pausedOnCreate || spec.is_paused_upon_creation === true ? 1 : 0;
    db.query(
      `INSERT INTO dags (dag_id, fileloc, version_id, is_paused, is_active, tags, last_parsed_at) VALUES (?, ?, ?, ?, 1, ?, ?)
       ON CONFLICT (dag_id) DO UPDATE SET fileloc = excluded.fileloc, version_id = excluded.version_id, is_active = 1,
         tags = excluded.tags, last_parsed_at = excluded.last_parsed_at`,
    ).run(spec.dag_id, fileloc, version.id, paused, tags, t);
  }).immediate();
  return getDag(db, spec.dag_id)!;
}

export function listDags(
  db: Database,
  opts: ListOptions & { only_active?: boolean; paused?: boolean; tags?: string[] } = {},
): Page<DagRecord> {
  const where: string[] = [];
  const params: (string | number)[] = [];
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
  const filter = where.length ? ` WHERE ${where.join(" AND ")}` : "";
  const page = pageClause(opts, DAG_SORTABLE, "dag_id", "d.dag_id");
  const rows = db.query(`SELECT ${DAG_COLUMNS} FROM ${DAG_FROM}${filter}${page.sql}`).all(...params, ...page.params) as DagRow[];
  const { n } = db.query(`SELECT count(*) AS n FROM dags d${filter}`).get(...params) as { n: number };
  return { items: rows.map(toDag), total: n };
}

export function setDagPaused(db: Database, dagId: string, paused: boolean): DagRecord | null {
  db.query("UPDATE dags SET is_paused = ? WHERE dag_id = ?").run(paused ? 1 : 0, dagId);
  return getDag(db, dagId);
}

export function deactivateDagsOfFile(db: Database, fileloc: string, keepDagIds: string[]): void {
  db.query("UPDATE dags SET is_active = 0 WHERE fileloc = ? AND dag_id NOT IN (SELECT value FROM json_each(?))").run(
    fileloc,
    JSON.stringify(keepDagIds),
  );
}

export function getDagVersion(db: Database, versionId: number): DagSpec | null {
  const row = db.query("SELECT spec FROM dag_versions WHERE id = ?").get(versionId) as { spec: string } | null;
  return row ? (JSON.parse(row.spec) as DagSpec) : null;
}

export function replaceImportErrors(db: Database, filename: string, errors: string[], now: Date): void {
  db.transaction(() => {
    db.query("DELETE FROM import_errors WHERE filename = ?").run(filename);
    const insert = db.query("INSERT INTO import_errors (filename, stack_trace, timestamp) VALUES (?, ?, ?)");
    for (const e of errors) insert.run(filename, e, now.getTime());
  }).immediate();
}

export function listImportErrors(db: Database, opts: ListOptions & { filename_pattern?: string } = {}): Page<ImportErrorRecord> {
  const where = opts.filename_pattern !== undefined ? " WHERE filename LIKE ?" : "";
  const params = opts.filename_pattern !== undefined ? [opts.filename_pattern] : [];
  const page = pageClause(opts, IMPORT_ERROR_SORTABLE, "id", "id");
  const rows = db
    .query(`SELECT id, filename, stack_trace, timestamp FROM import_errors${where}${page.sql}`)
    .all(...params, ...page.params) as ImportErrorRow[];
  const { n } = db.query(`SELECT count(*) AS n FROM import_errors${where}`).get(...params) as { n: number };
  return { items: rows.map(toImportError), total: n };
}

export function getImportError(db: Database, id: number): ImportErrorRecord | null {
  const row = db.query("SELECT id, filename, stack_trace, timestamp FROM import_errors WHERE id = ?").get(id) as ImportErrorRow | null;
  return row ? toImportError(row) : null;
}
