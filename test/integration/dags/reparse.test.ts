import { afterAll, afterEach, beforeEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DagFolderSync, inProcessParser } from "../../../src/dags";
import { silentLogger } from "../../../src/observability";
import { openStore, type Store } from "../../../src/store";

const root = mkdtempSync(join(tmpdir(), "leoflow-reparse-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const T0 = new Date("2026-03-01T00:00:00Z");
const OWNED = `{ "dag_id": "etl", "default_args": { "owner": "data-team" },
  "tasks": [ { "task_id": "a", "operator": "bash", "bash_command": "echo hi" } ] }`;

let folder: string;
let store: Store;
let sync: DagFolderSync;

beforeEach(async () => {
  folder = mkdtempSync(join(root, "dags-"));
  store = openStore("sqlite::memory:");
  await store.migrate();
  sync = new DagFolderSync({ team: "default", folder, store, parser: inProcessParser, pausedOnCreate: false, logger: silentLogger });
});
afterEach(async () => {
  sync.stop();
  await store.close();
});

test("default_args.owner is a DAG like any other, not an import error", async () => {
  writeFileSync(join(folder, "etl.json"), OWNED);
  await sync.syncOnce(T0);
  expect((await store.listImportErrors("default")).total).toBe(0);
  expect((await store.getDag("default", "etl"))!.spec.tasks[0]!.owner).toBe("data-team");
});

test("reparse parses an unchanged file again: a deleted DAG whose file still defines it comes back", async () => {
  const file = join(folder, "etl.json");
  writeFileSync(file, OWNED);
  await sync.syncOnce(T0);
  expect((await sync.syncOnce(T0)).parsed).toEqual([]); // unchanged: a sync skips it
  expect(await store.deleteDag("default", "etl")).toBe("deleted");
  const report = await sync.reparse(file, T0);
  expect(report.parsed).toEqual([file]);
  expect((await store.getDag("default", "etl"))?.is_active).toBe(true);
});

test("reparse refuses a file outside the folder, and deactivates the DAGs of a file that is gone", async () => {
  await expect(sync.reparse("/etc/passwd")).rejects.toThrow("is not in the DAGs folder");
  const file = join(folder, "etl.json");
  writeFileSync(file, OWNED);
  await sync.syncOnce(T0);
  rmSync(file);
  await sync.reparse(file, T0);
  expect((await store.getDag("default", "etl"))?.is_active).toBe(false);
});
