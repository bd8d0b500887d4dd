/**
 * Runs a block of integration tests once per store: SQLite always, Postgres too (skipped locally with one
 * line when no server answers, required under CI=true — see describePg). Each test gets an empty, migrated
 * store from `backend.open()`; Postgres tests share one schema per block, emptied before each test.
 */
import { beforeAll, describe, setDefaultTimeout } from "bun:test";
import { guardedStore, openStore, type Store } from "../../src/store";
import { PostgresStore } from "../../src/store/postgres";
import { describePg, pgUrl, resettableSchema } from "./postgres";

export interface StoreBackend {
  name: "sqlite" | "postgres";
  /** A fresh, empty store (not yet migrated; migrate() is cheap and idempotent). */
  open(): Promise<Store>;
}

export function forEachStore(fn: (backend: StoreBackend) => void): void {
  // These suites drive the real loop until it settles; on a loaded CI machine (after the fault suite, say)
  // that can take longer than bun's 5 s default, which would cut a test off mid-poll. Set here, per call:
  // setDefaultTimeout holds for the calling test file only (see bunfig.toml), and a module's top level runs
  // once per `bun test` process, so at the top of this file it reached only the first file importing it.
  setDefaultTimeout(20_000);
  describe("on sqlite", () => fn({ name: "sqlite", open: async () => openStore("sqlite::memory:") }));
  describePg("on postgres", () => {
    const schema = resettableSchema();
    // Create and migrate the block's schema once, before its first test, not inside it.
    beforeAll(() => schema.reset(), 60_000);
    fn({
      name: "postgres",
      open: async () => {
        await schema.reset();
        return guardedStore(new PostgresStore({ url: pgUrl(), schema: schema.name, max: 4 }));
      },
    });
  });
}
