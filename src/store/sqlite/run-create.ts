/** Creating many DAG runs at once (the cron scheduler's slot): one transaction, one commit. */
import type { Database } from "bun:sqlite";
import { ConflictError, type DagRunRecord, type NewDagRun } from "../../domain";
import { createDagRun } from "./runs";

/**
 * Inserts each run (state queued) with its task instances (state none), all in one transaction; returns, in
 * input order, the created record or null where the run id was taken already (also by an earlier input).
 * Each run is a savepoint inside it (createDagRun's own transaction nests), so a taken id undoes only that run.
 */
export function createDagRuns(db: Database, inputs: readonly NewDagRun[]): (DagRunRecord | null)[] {
  return db
    .transaction(() =>
      inputs.map((input) => {
        try {
          return createDagRun(db, input);
        } catch (err) {
          if (err instanceof ConflictError) return null;
          throw err;
        }
      }),
    )
    .immediate();
}
