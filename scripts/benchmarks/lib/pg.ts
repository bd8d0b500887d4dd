/** Postgres for the bench: where it is (--pg or LEOFLOW_TEST_PG), whether it answers, throwaway schemas. */
import postgres from "postgres";
import { redactUrl } from "../../../src/domain";

export interface BenchPg {
  url: string;
  /** A new schema name, remembered so dropSchemas() removes it. */
  schema(): string;
  dropSchemas(): Promise<void>;
}

export async function openBenchPg(url: string): Promise<BenchPg | null> {
  const sql = postgres(url, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await sql`SELECT 1`;
  } catch (e) {
    console.error(`postgres at ${redactUrl(url)} does not answer (${(e as Error).message}): Postgres rows are skipped`);
    await sql.end({ timeout: 1 }).catch(() => {});
    return null;
  }
  await sql.end({ timeout: 1 });
  const made: string[] = [];
  let n = 0;
  return {
    url,
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
