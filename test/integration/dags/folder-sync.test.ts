import { afterAll, afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { selfCommand } from "../../../src/agent";
import { DagFolderSync, IsolatedDagParser, inProcessParser } from "../../../src/dags";
import { waitFor } from "../../e2e/harness";
import { silentLogger } from "../../../src/observability";
import { openStore, type Store } from "../../../src/store";

const root = mkdtempSync(join(tmpdir(), "leoflow-sync-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const T0 = new Date("2026-03-01T00:00:00Z");
const at = (s: number) => new Date(T0.getTime() + s * 1000);

const bashDag = (dagId: string, command = "echo hi", extra = "") =>
  `{ "dag_id": "${dagId}"${extra}, "tasks": [ { "task_id": "a", "operator": "bash", "bash_command": "${command}" } ] }`;

let folder: string;
let store: Store;
let changes: string[][];
let sync: DagFolderSync;
let tick = 0;

/** Writes a file with a distinct mtime, so "changed" never depends on the clock's resolution. */
function put(name: string, text: string): string {
  const path = join(folder, name);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
  const t = new Date(T0.getTime() + ++tick * 1000);
  utimesSync(path, t, t);
  return path;
}

const newSync = (pausedOnCreate = false) =>
  new DagFolderSync({
    team: "default",
    folder,
    store,
    parser: inProcessParser,
    pausedOnCreate,
    logger: silentLogger,
    onChange: (ids) => changes.push(ids),
  });

beforeEach(async () => {
  folder = mkdtempSync(join(root, "dags-"));
  store = openStore("sqlite::memory:");
  await store.migrate();
  changes = [];
  sync = newSync();
});
afterEach(async () => {
  sync.stop();
  await store.close();
});

const importErrors = async () =>
  (await store.listImportErrors("default")).items.map((e) => ({ file: e.filename.split("/").pop(), lines: e.stack_trace }));

describe("DagFolderSync.syncOnce", () => {
  test("new files become active DAGs; bad files become import errors", async () => {
    put("etl.json", bashDag("etl"));
    put("nested/deeper/pair.yaml", "- { dag_id: one, tasks: [{ task_id: a, operator: bash, bash_command: echo }] }\n");
    put("broken.json", `{ "dag_id": "broken", "tasks": [ { "task_id": "a", "operator": "perl" } ] }`);
    put("_helper.json", "not even json");
    put(".hidden/x.json", "nope");

    const report = await sync.syncOnce(at(0));

    expect(report.files).toBe(3);
    expect(report.changedDagIds).toEqual(["etl", "one"]);
    expect(changes).toEqual([["etl", "one"]]);
    const etl = await store.getDag("default", "etl");
    expect(etl).toMatchObject({ dag_id: "etl", is_active: true, is_paused: false, fileloc: join(folder, "etl.json") });
    expect((await store.getDag("default", "one"))?.is_active).toBe(true);
    expect(await importErrors()).toEqual([
      { file: "broken.json", lines: expect.stringContaining('tasks[0].operator: unknown operator "perl"') },
    ]);
  });

  test("an unchanged folder parses nothing and reports no change", async () => {
    put("etl.json", bashDag("etl"));
    await sync.syncOnce(at(0));
    const again = await sync.syncOnce(at(10));
    expect(again.parsed).toEqual([]);
    expect(again.changedDagIds).toEqual([]);
    expect(changes).toHaveLength(1);
  });

  test("a changed file makes a new version; a broken file keeps its DAG's last good version; fixing it clears its import errors", async () => {
    const file = put("etl.json", bashDag("etl"));
    await sync.syncOnce(at(0));
    const v1 = (await store.getDag("default", "etl"))!.version_id;

    put("etl.json", bashDag("etl", "echo changed"));
    const report = await sync.syncOnce(at(10));
    const v2 = (await store.getDag("default", "etl"))!;
    expect(report.parsed).toEqual([file]);
    expect(report.changedDagIds).toEqual(["etl"]);
    expect(v2.version_id).not.toBe(v1);
    expect(v2.spec.tasks[0]!.bash_command).toBe("echo changed");
    expect((await store.getDagVersion(v1))!.tasks[0]!.bash_command).toBe("echo hi");

    put("etl.json", `{ "dag_id": "etl", "tasks": [`);
    await sync.syncOnce(at(20));
    expect(await importErrors()).toEqual([
      { file: "etl.json", lines: expect.stringMatching(/^line 1, column 30: invalid JSON: unexpected end of input/) },
    ]);
    // As in Airflow 3: the DAG stays, on its last good version (a typo in a deploy does not stop its schedule).
    expect(await store.getDag("default", "etl")).toMatchObject({ is_active: true, version_id: v2.version_id });

    put("etl.json", bashDag("etl", "echo changed"));
    await sync.syncOnce(at(30));
    expect(await importErrors()).toEqual([]);
    expect(await store.getDag("default", "etl")).toMatchObject({ is_active: true, version_id: v2.version_id });
  });

  test("deleting a file, or a DAG from a file, deactivates it", async () => {
    put("pair.yaml", `- ${bashDag("keep")}\n- ${bashDag("drop")}\n`);
    const gone = put("gone.json", bashDag("gone"));
    await sync.syncOnce(at(0));

    put("pair.yaml", `- ${bashDag("keep")}\n`);
    rmSync(gone);
    const report = await sync.syncOnce(at(10));

    expect(report.removed).toEqual([gone]);
    expect(report.changedDagIds).toEqual(["drop", "gone"]);
    expect((await store.getDag("default", "keep"))!.is_active).toBe(true);
    expect((await store.getDag("default", "drop"))!.is_active).toBe(false);
    expect((await store.getDag("default", "gone"))!.is_active).toBe(false);
  });

  test("a deleted bad file takes its import errors with it", async () => {
    const bad = put("bad.yaml", "dag_id: [");
    await sync.syncOnce(at(0));
    expect(await importErrors()).toHaveLength(1);
    rmSync(bad);
    await sync.syncOnce(at(10));
    expect(await importErrors()).toEqual([]);
  });

  test("a dag_id defined by two files belongs to the first; the second gets an error until the first lets go", async () => {
    const first = put("a.json", bashDag("dup", "echo first"));
    put("b.json", bashDag("dup", "echo second"));
    await sync.syncOnce(at(0));
    expect((await store.getDag("default", "dup"))!.fileloc).toBe(first);
    expect(await importErrors()).toEqual([
      { file: "b.json", lines: expect.stringMatching(/^dag_id: dag_id "dup" is already defined in .*a\.json; rename one of them$/) },
    ]);

    put("a.json", bashDag("other"));
    await sync.syncOnce(at(10));
    expect(await store.getDag("default", "dup")).toMatchObject({ fileloc: join(folder, "b.json"), is_active: true });
    expect(await importErrors()).toEqual([]);
  });

  test("after a restart the file the store names keeps its DAG", async () => {
    put("b.json", bashDag("dup"));
    await sync.syncOnce(at(0));
    put("a.json", bashDag("dup", "echo impostor"));
    const restarted = newSync();
    await restarted.syncOnce(at(10));
    expect((await store.getDag("default", "dup"))!.fileloc).toBe(join(folder, "b.json"));
    expect((await importErrors()).map((e) => e.file)).toEqual(["a.json"]);
  });

  test("a file found broken at a restart keeps its DAG on the version the store has", async () => {
    put("etl.json", bashDag("etl"));
    await sync.syncOnce(at(0));
    const good = (await store.getDag("default", "etl"))!;
    put("etl.json", `{ "dag_id": "etl", "tasks": [`);
    await newSync().syncOnce(at(10));
    expect((await importErrors()).map((e) => e.file)).toEqual(["etl.json"]);
    expect(await store.getDag("default", "etl")).toMatchObject({ is_active: true, version_id: good.version_id });
  });

  test("a file deleted while no server ran: the next start deactivates its DAG and drops its import errors", async () => {
    put("etl.json", bashDag("etl"));
    const gone = put("gone.json", bashDag("gone"));
    const bad = put("bad.yaml", "dag_id: [");
    await sync.syncOnce(at(0));
    rmSync(gone);
    rmSync(bad);
    const report = await newSync().syncOnce(at(10));
    expect(report.changedDagIds).toContain("gone");
    expect((await store.getDag("default", "gone"))!.is_active).toBe(false);
    expect((await store.getDag("default", "etl"))!.is_active).toBe(true);
    expect(await importErrors()).toEqual([]);
  });

  test("a server started with another --dags-folder path leaves no DAG or import error tied to the old path", async () => {
    // The old folder: what a server recorded while it ran with it.
    put("etl.json", bashDag("etl"));
    put("only_old.json", bashDag("only_old"));
    put("bad.yaml", "dag_id: [");
    await sync.syncOnce(at(0));
    const oldFolder = folder;
    // The same DAGs checked out elsewhere, but for one, and the server restarted with that folder.
    folder = mkdtempSync(join(root, "moved-"));
    put("etl.json", bashDag("etl"));
    const moved = newSync();
    const report = await moved.syncOnce(at(10));
    moved.stop();
    // The DAG the new folder defines is its file's; the one it does not is retired, with the old path's errors.
    expect(await store.getDag("default", "etl")).toMatchObject({ is_active: true, fileloc: join(folder, "etl.json") });
    expect(await store.getDag("default", "only_old")).toMatchObject({ is_active: false, fileloc: join(oldFolder, "only_old.json") });
    expect(report.changedDagIds).toEqual(["etl", "only_old"]);
    expect(await importErrors()).toEqual([]);
    expect((await store.findDags("default", { only_active: true })).items.map((d) => d.fileloc)).toEqual([join(folder, "etl.json")]);
  });

  test("new DAGs are paused when the server says so, or when the DAG asks", async () => {
    put("asks.json", bashDag("asks", "echo", `, "is_paused_upon_creation": true`));
    put("plain.json", bashDag("plain"));
    await sync.syncOnce(at(0));
    expect((await store.getDag("default", "asks"))!.is_paused).toBe(true);
    expect((await store.getDag("default", "plain"))!.is_paused).toBe(false);

    put("later.json", bashDag("later"));
    await newSync(true).syncOnce(at(10));
    expect((await store.getDag("default", "later"))!.is_paused).toBe(true);
  });

  test("SDK files sync like the others", async () => {
    put("sdk.ts", `import { dag } from "leoflow/sdk";\ndag({ dag_id: "sdk_dag" }, ({ ts }) => { ts({ task_id: "t" }, () => 1); });\n`);
    await sync.syncOnce(at(0));
    expect((await store.getDag("default", "sdk_dag"))!.spec.tasks[0]).toMatchObject({ task_id: "t", operator: "ts" });
  });

  test("a missing folder is a clear error", async () => {
    const missing = new DagFolderSync({
      team: "default",
      folder: join(root, "nope"),
      store,
      parser: inProcessParser,
      pausedOnCreate: false,
      logger: silentLogger,
    });
    await expect(missing.syncOnce(at(0))).rejects.toThrow(/DAG folder ".*nope" does not exist; create it/);
  });
});

test("start() picks up a new file without a manual sync", async () => {
  await sync.syncOnce(at(0));
  let pickedUp!: () => void;
  const late = new Promise<void>((r) => (pickedUp = r));
  const onChange = (ids: string[]) => {
    changes.push(ids);
    if (ids.includes("late")) pickedUp();
  };
  sync = new DagFolderSync({
    team: "default",
    folder,
    store,
    parser: inProcessParser,
    pausedOnCreate: false,
    logger: silentLogger,
    pollIntervalMs: 100,
    onChange,
  });
  sync.start();
  writeFileSync(join(folder, "late.json"), bashDag("late"));
  await late; // the sync's own change notice, not a poll of the store
  expect((await store.getDag("default", "late"))?.is_active).toBe(true);
  expect(changes).toContainEqual(["late"]);
});

test("a changed helper module re-parses the code files (which may import it), not the data files", async () => {
  const calls: { files: string[]; helpers: string }[] = [];
  const counting = new DagFolderSync({
    team: "default",
    folder,
    store,
    pausedOnCreate: false,
    logger: silentLogger,
    parser: {
      parse: (files, helpers = "") => (calls.push({ files: files.map((f) => f.split("/").pop()!), helpers }), inProcessParser.parse(files)),
    },
  });
  put("_shared.ts", `export const command = "echo one";\n`);
  put(
    "sdk.ts",
    `import { dag } from "leoflow/sdk";\ndag({ dag_id: "uses_helper" }, ({ bash }) => { bash({ task_id: "a", bash_command: "echo" }); });\n`,
  );
  put("etl.json", bashDag("etl"));
  await counting.syncOnce(at(0));
  await counting.syncOnce(at(10));
  expect(calls.map((c) => c.files)).toEqual([["etl.json", "sdk.ts"]]);

  put("_shared.ts", `export const command = "echo two";\n`);
  await counting.syncOnce(at(20));
  expect(calls.map((c) => c.files)).toEqual([["etl.json", "sdk.ts"], ["sdk.ts"]]);
  expect(calls[1]!.helpers).not.toBe(calls[0]!.helpers);
  expect((await store.getDag("default", "uses_helper"))?.is_active).toBe(true);
});

describe("a file that parses slowly (a real parse child sleeping seconds)", () => {
  const finished = () => join(folder, "slow-finished");
  /** "a_slow" sorts first: before, every file of the sync waited for it (path order), and every later sync too. */
  const putSlow = (ms: number) =>
    put(
      "a_slow.ts",
      `import { writeFileSync } from "node:fs";\nawait Bun.sleep(${ms});\nwriteFileSync(${JSON.stringify(finished())}, "");\nthrow new Error("slow and wrong");\n`,
    );
  const serverSync = (stalledParseMs?: number) =>
    new DagFolderSync({
      team: "default",
      folder,
      store,
      // The server's parser: each code file in a child process of its own, data files in a batch of their own.
      parser: new IsolatedDagParser({ command: selfCommand(), version: "test" }),
      pausedOnCreate: false,
      logger: silentLogger,
      ...(stalledParseMs ? { stalledParseMs } : {}),
    });

  test("holds back no other file's DAGs or import errors in its sync", async () => {
    sync = serverSync();
    putSlow(6000);
    put("good.json", bashDag("good"));
    put("broken.yaml", "dag_id: broken\ntasks: [\n");
    let settled = false;
    const syncing = sync.syncOnce(at(1)).finally(() => (settled = true));
    await waitFor(
      async () => (await store.getDag("default", "good")) !== null && (await importErrors()).length > 0,
      10_000,
      () => "the good DAG and the broken file's error never appeared",
    );
    // Both are in while the slow file is still being parsed.
    expect(existsSync(finished())).toBe(false);
    expect(settled).toBe(false);
    expect((await importErrors()).map((e) => e.file)).toEqual(["broken.yaml"]);
    const report = await syncing; // the server's first scan: it waits for every file
    expect(existsSync(finished())).toBe(true);
    expect(report.parsed.map((p) => p.split("/").pop())).toEqual(["a_slow.ts", "broken.yaml", "good.json"]);
    expect(report.parsing).toEqual([]);
    const errors = (await importErrors()).map((e) => [e.file, e.lines.includes("slow and wrong")]);
    expect(errors.sort()).toEqual([
      ["a_slow.ts", true],
      ["broken.yaml", false],
    ]);
  }, 20_000);

  test("a watcher's scan it stalls returns, and the next one applies an edit while it still parses", async () => {
    // Its parse runs 10 s: far longer than the other file's parses take, even on a loaded machine.
    sync = serverSync(1_000);
    putSlow(10_000);
    put("good.json", bashDag("good", "echo one"));
    const goodRuns = async (command: string) =>
      (await store.getDagVersion((await store.getDag("default", "good"))?.version_id ?? -1))?.tasks[0]?.bash_command === command;
    const first = await sync.syncOnce(at(1), { whole: false });
    expect(first.parsing).toContain(join(folder, "a_slow.ts"));
    await waitFor(
      () => goodRuns("echo one"),
      10_000,
      () => "good.json's first version never appeared",
    );
    // An edit while the slow file still parses: the next scan takes it and leaves the slow file to its parse.
    put("good.json", bashDag("good", "echo two"));
    const second = await sync.syncOnce(at(2), { whole: false });
    expect(second.parsing).toContain(join(folder, "a_slow.ts"));
    await waitFor(
      () => goodRuns("echo two"),
      10_000,
      () => "the edit never appeared",
    );
    expect(existsSync(finished())).toBe(false); // both versions landed while the slow file was still being parsed
    // The slow file's outcome is stored when its parse ends, by the scan that started it.
    await waitFor(
      async () => (await importErrors()).some((e) => e.file === "a_slow.ts"),
      20_000,
      () => "the slow file's import error never appeared",
    );
    expect(existsSync(finished())).toBe(true);
    expect((await sync.syncOnce(at(3), { whole: false })).parsed).toEqual([]); // stored: nothing left to parse
  }, 40_000);
});
