/** Postgres for the bench: where it is (--pg or LEOFLOW_TEST_PG), whether it answers, throwaway schemas. */
import postgres from "postgres";
import { redactUrl } from "../../../src/domain";

export interface BenchPg {
  url: string;
  /** What the bench did to the server's state before the run (the header's `postgres:` line). */
  note: string;
  /** A new schema name, remembered so dropSchemas() removes it. */
  schema(): string;
  dropSchemas(): Promise<void>;
}

/** The schemas a bench run makes: `leoflow_bench_<its pid>_<n>`. */
const BENCH_SCHEMA = /^leoflow_bench_(\d+)_\d+$/;

/**
 * The system catalogs a schema's tables, indexes, sequences and triggers fill. Each schema the bench and the test
 * suite make and drop leaves dead rows in them, which only a VACUUM reclaims.
 */
const CATALOGS = [
  "pg_attribute",
  "pg_class",
  "pg_depend",
  "pg_type",
  "pg_index",
  "pg_constraint",
  "pg_attrdef",
  "pg_trigger",
  "pg_sequence",
  "pg_proc",
  "pg_namespace",
  "pg_statistic",
];

export async function openBenchPg(url: string): Promise<BenchPg | null> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
  } catch (e) {
    console.error(`postgres at ${redactUrl(url)} does not answer (${(e as Error).message}): Postgres rows are skipped`);
    await sql.end({ timeout: 1 }).catch(() => {});
    return null;
  }
  let note: string;
  try {
    note = await tidy(sql);
  } finally {
    await sql.end({ timeout: 1 });
  }
  const made: string[] = [];
  let n = 0;
  return {
    url,
    note,
    schema: () => {
      const s = `leoflow_bench_${process.pid}_${n++}`;
      made.push(s);
      return s;
    },
    dropSchemas: async () => {
      const admin = postgres(url, { max: 1, onnotice: () => {} });
      for (const s of made.splice(0)) await admin.unsafe(`DROP SCHEMA IF EXISTS "${s}" CASCADE`).catch(() => {});
      await admin.end();
    },
  };
}

/**
 * Puts the server in the state a run should start from: the schemas of bench runs that were killed dropped, and,
 * when autovacuum is off (this machine's Postgres), the system catalogs vacuumed. With autovacuum off every schema
 * made and dropped since the server started leaves its catalog rows dead, without bound: after a day of test runs
 * pg_attribute held 166,000 dead rows to 840 live ones. Whether that moves a row is not established (the 10,000-task
 * fan-out read 0.70–0.78× for Leoflow and graphile-worker before one such vacuum, but the same catalogs bloated on
 * purpose and vacuumed again moved one subject of three, within the VM's noise); runs start from the same state
 * either way, as a server with autovacuum on (the default) keeps itself. Returns what it did, for the header.
 */
async function tidy(sql: postgres.Sql): Promise<string> {
  const done: string[] = [];
  const schemas = await sql<{ nspname: string }[]>`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'leoflow_bench_%'`;
  const orphans = schemas.map((s) => s.nspname).filter((s) => !pidAlive(Number(BENCH_SCHEMA.exec(s)?.[1] ?? 0)));
  for (const s of orphans) await sql.unsafe(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  if (orphans.length) done.push(`dropped ${orphans.length} schema(s) of bench runs no longer running`);
  const [setting] = await sql<{ autovacuum: string }[]>`SELECT current_setting('autovacuum') AS autovacuum`;
  if (setting?.autovacuum === "on") return ["autovacuum on", ...done].join("; ");
  const dead = async () =>
    Number(
      (await sql<{ n: string }[]>`SELECT coalesce(sum(n_dead_tup), 0) AS n FROM pg_stat_sys_tables WHERE relname IN ${sql(CATALOGS)}`)[0]!
        .n,
    );
  const before = await dead();
  // VACUUM runs outside a transaction block, one statement each. Needs the catalogs' owner (a superuser, as CI's).
  try {
    for (const c of CATALOGS) await sql.unsafe(`VACUUM (ANALYZE) pg_catalog.${c}`);
    done.push(`autovacuum off: the system catalogs vacuumed before the run (${before} dead rows)`);
  } catch (e) {
    done.push(`autovacuum off, and the system catalogs could not be vacuumed (${(e as Error).message}): ${before} dead rows`);
  }
  return done.join("; ");
}

function pidAlive(pid: number): boolean {
  if (!pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}
