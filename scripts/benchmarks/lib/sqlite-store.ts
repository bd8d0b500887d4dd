/** The SQLite store of the in-process workloads (tick, tick-teams, sensors, cron's scheduler alone). */
import { SqliteStore } from "../../../src/store";

/**
 * Opened as the server opens its own (app.ts: openStore with backgroundCheckpoints), so that a workload measures
 * the scheduler the binary runs: WAL checkpoints on a worker thread, not inside the sweep's commits (they were
 * ~100 ms of a 10,000-run first sweep).
 */
export const serverSqliteStore = (path: string): SqliteStore => new SqliteStore({ path, backgroundCheckpoints: true });
