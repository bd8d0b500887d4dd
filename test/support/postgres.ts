/**
 * Postgres for tests: where the server is (LEOFLOW_TEST_PG), whether it answers (probed once, when this
 * module loads), `describePg` that skips with one line locally but fails under CI=true, and `freshSchema`
 * so every test (or file) gets its own schema and runs never collide, and `resettableSchema` for suites
 * that need an empty, migrated store per test without paying for a migration each time.
 *
 * @example
 * describePg("PostgresStore", () => {
 *   const schemas = freshSchemas();
 *   test("…", async () => { const store = new PostgresStore({ url: pgUrl(), schema: schemas.next() }); … });
 * });
 */
import { afterAll, describe, test } from "bun:test";
import postgres from "postgres";
import { PostgresStore } from "../../src/store/postgres";
import { redactUrl as redact } from "../../src/domain";

export const DEFAULT_TEST_PG = "postgres://postgres@127.0.0.1:5432/test";

export function pgUrl(): string {
  return process.env.LEOFLOW_TEST_PG || DEFAULT_TEST_PG;
}

/** The test database's URL with `schema` as its search_path: what `--db` takes for a deployment in that schema. */
export function pgUrlWithSchema(schema: string): string {
  return `${pgUrl()}${pgUrl().includes("?") ? "&" : "?"}search_path=${schema}`;
}

let probe: Promise<string | null> | undefined;

/** null when the server answers `SELECT 1`, otherwise why not. Probed once per process. */
export function pgUnavailableReason(): Promise<string | null> {
  probe ??= (async () => {
    const sql = postgres(pgUrl(), { max: 1, connect_timeout: 3, onnotice: () => {} });
    try {
      await sql`SELECT 1`;
      return null;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    } finally {
      await sql.end({ timeout: 1 }).catch(() => {});
    }
  })();
  return probe;
}

export async function pgAvailable(): Promise<boolean> {
  return (await pgUnavailableReason()) === null;
}

// Top-level await: bun:test collects describe blocks synchronously, so the answer must be known at import.
const unavailable = await pgUnavailableReason();

/**
 * `describe` when Postgres answers. Otherwise: locally, the block is skipped with one line saying why; under
 * CI=true, a failing test says Postgres is required.
 */
export function describePg(name: string, fn: () => void): void {
  if (unavailable === null) return describe(name, fn);
  const where = `${redact(pgUrl())} (${unavailable})`;
  if (process.env.CI === "true") {
    describe(name, () => {
      test("Postgres is reachable", () => {
        throw new Error(`Postgres is required in CI: no server answered at ${where}; start one or point LEOFLOW_TEST_PG at it`);
      });
    });
    return;
  }
  console.log(`skipping "${name}": no Postgres at ${where}; set LEOFLOW_TEST_PG or start one (required when CI=true)`);
  describe.skip(name, fn);
}

let counter = 0;

/** A schema name no other test run uses: leoflow_test_<pid>_<time>_<n>. */
export function uniqueSchemaName(): string {
  return `leoflow_test_${process.pid}_${Date.now().toString(36)}_${++counter}`;
}

/**
 * Hands out fresh schema names and drops every one of them after the enclosing describe block (or file).
 * Call inside a describePg block.
 */
export function freshSchemas(): { next(): string } {
  const made: string[] = [];
  afterAll(async () => {
    if (made.length === 0) return;
    const sql = postgres(pgUrl(), { max: 1, onnotice: () => {} });
    try {
      for (const s of made) await sql.unsafe(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
    } finally {
      await sql.end({ timeout: 1 });
    }
  });
  return {
    next() {
      const name = uniqueSchemaName();
      made.push(name);
      return name;
    },
  };
}

/** One fresh schema name, dropped after the enclosing describe block (or file). */
export function freshSchema(): string {
  return freshSchemas().next();
}

/**
 * One schema per file, migrated once, emptied before each test: migrating a fresh schema costs ~90 ms (DDL
 * commits), TRUNCATE ~30 ms, DELETE of a few rows ~2 ms. Rows that migrations seed (e.g. default pools) are
 * copied aside after the first migration and put back by every reset, so each test sees exactly what a
 * freshly migrated store holds. Call inside a describePg block; the schema is dropped afterwards.
 */
export function resettableSchema(): { readonly name: string; reset(): Promise<void> } {
  const name = uniqueSchemaName();
  const seed = `${name}_seed`;
  let admin: ReturnType<typeof postgres> | undefined;
  /** Tables children-first (a table before every table it references), and which of them migrations seeded. */
  let plan: { order: string[]; seeded: string[] } | undefined;

  async function prepare(sql: ReturnType<typeof postgres>) {
    const store = new PostgresStore({ url: pgUrl(), schema: name, max: 1 });
    await store.migrate();
    await store.close();
    const tables = (
      await sql.unsafe<{ t: string }[]>(`SELECT tablename AS t FROM pg_tables WHERE schemaname = $1 AND tablename <> 'schema_migrations'`, [
        name,
      ])
    ).map((r) => r.t);
    const edges = await sql.unsafe<{ child: string; parent: string }[]>(
      `SELECT c.relname AS child, p.relname AS parent FROM pg_constraint k
       JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE k.contype = 'f' AND n.nspname = $1 AND c.relname <> p.relname`,
      [name],
    );
    const order: string[] = [];
    const left = new Set(tables);
    while (left.size) {
      const free = [...left].filter((t) => !edges.some((e) => e.parent === t && left.has(e.child)));
      if (free.length === 0)
        throw new Error(`foreign keys between ${[...left].join(", ")} form a cycle; resettableSchema cannot order them`);
      for (const t of free) left.delete(t), order.push(t);
    }
    await sql.unsafe(`CREATE SCHEMA "${seed}"`);
    const seeded: string[] = [];
    for (const t of tables) {
      const [row] = await sql.unsafe(`SELECT 1 FROM "${name}"."${t}" LIMIT 1`);
      if (!row) continue;
      await sql.unsafe(`CREATE TABLE "${seed}"."${t}" AS SELECT * FROM "${name}"."${t}"`);
      seeded.push(t);
    }
    return { order, seeded };
  }

  afterAll(async () => {
    if (!admin) return;
    await admin.unsafe(`DROP SCHEMA IF EXISTS "${name}" CASCADE; DROP SCHEMA IF EXISTS "${seed}" CASCADE`).simple();
    await admin.end({ timeout: 1 });
  });

  return {
    name,
    async reset() {
      admin ??= postgres(pgUrl(), { max: 1, onnotice: () => {} });
      plan ??= await prepare(admin);
      const parentsFirst = [...plan.order].reverse().filter((t) => plan!.seeded.includes(t));
      const statements = [
        ...plan.order.map((t) => `DELETE FROM "${name}"."${t}"`),
        ...parentsFirst.map((t) => `INSERT INTO "${name}"."${t}" OVERRIDING SYSTEM VALUE SELECT * FROM "${seed}"."${t}"`),
      ];
      await admin.unsafe(statements.join(";\n")).simple();
    },
  };
}
