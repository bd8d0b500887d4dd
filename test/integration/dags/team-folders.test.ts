/**
 * DAG folders per team (issue 21): `--dags-folder TEAM=PATH` and `--dags-folder-layout=teams`. Each folder is
 * synced into its team only: the same dag_id in two teams' folders is two DAGs, an import error is listed for
 * the team whose folder has the file, and a file removed from one team's folder deactivates only its DAG.
 */
import { afterAll, afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { selfCommand } from "../../../src/agent";
import { DagFolderSync, IsolatedDagParser, TeamDagFolders, inProcessParser, planTeamFolders, type TeamFolderPlan } from "../../../src/dags";
import { waitFor } from "../../e2e/harness";
import { silentLogger } from "../../../src/observability";
import { openStore, type Store } from "../../../src/store";

const root = mkdtempSync(join(tmpdir(), "leoflow-team-folders-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const T0 = new Date("2026-03-01T00:00:00Z");
const bashDag = (dagId: string, taskId: string) =>
  `{ "dag_id": "${dagId}", "tasks": [ { "task_id": "${taskId}", "operator": "bash", "bash_command": "true" } ] }`;

let base: string;
let store: Store;
let folders: TeamDagFolders | null;

function put(path: string, text: string): string {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, text);
  return path;
}

/** The folders the server would sync for this configuration, each team created, synced once. */
async function syncAll(cfg: Parameters<typeof planTeamFolders>[0]): Promise<TeamFolderPlan[]> {
  const plans = await planTeamFolders(cfg);
  for (const p of plans) await store.ensureTeam(p.team, T0);
  folders = new TeamDagFolders(
    plans.map((p) => ({
      team: p.team,
      sync: new DagFolderSync({ ...p, store, parser: inProcessParser, pausedOnCreate: false, logger: silentLogger }),
    })),
  );
  await folders.syncOnce(T0);
  return plans;
}

const errorsOf = async (team: string) => (await store.listImportErrors(team)).items.map((e) => e.filename.slice(base.length + 1));

beforeEach(async () => {
  base = mkdtempSync(join(root, "case-"));
  store = openStore("sqlite::memory:");
  await store.migrate();
  folders = null;
});
afterEach(async () => {
  folders?.stop();
  await store.close();
});

describe("--dags-folder TEAM=PATH", () => {
  test("the same dag_id in two teams' folders is two DAGs; an import error is listed only for its team", async () => {
    const dflt = put(join(base, "default", "etl.json"), bashDag("etl", "default_task"));
    const ml = put(join(base, "ml", "etl.json"), bashDag("etl", "ml_task"));
    put(join(base, "ml", "broken.json"), `{ "dag_id": "broken", "tasks": [ { "task_id": "a", "operator": "perl" } ] }`);
    await syncAll({
      dags_folder: join(base, "default"),
      team_dags_folders: [{ team: "ml", path: join(base, "ml") }],
      dags_folder_layout: "single",
    });

    const [d, m] = [await store.getDag("default", "etl"), await store.getDag("ml", "etl")];
    expect([d?.fileloc, d?.spec.tasks[0]?.task_id]).toEqual([dflt, "default_task"]);
    expect([m?.fileloc, m?.spec.tasks[0]?.task_id]).toEqual([ml, "ml_task"]);
    expect((await store.listDags("default")).items.map((x) => x.dag_id)).toEqual(["etl"]);
    expect(await errorsOf("ml")).toEqual(["ml/broken.json"]);
    expect(await errorsOf("default")).toEqual([]);
  });

  test("a file removed from one team's folder deactivates that team's DAG only", async () => {
    put(join(base, "a", "etl.json"), bashDag("etl", "t"));
    const bFile = put(join(base, "b", "etl.json"), bashDag("etl", "t"));
    await syncAll({
      dags_folder: "",
      team_dags_folders: [
        { team: "a", path: join(base, "a") },
        { team: "b", path: join(base, "b") },
      ],
      dags_folder_layout: "single",
    });
    expect(folders?.teams).toEqual(["a", "b"]);
    unlinkSync(bFile);
    await folders?.syncOnce(T0);
    expect((await store.getDag("b", "etl"))?.is_active).toBe(false);
    expect((await store.getDag("a", "etl"))?.is_active).toBe(true);
    expect(await store.getDag("default", "etl")).toBeNull();
  });

  test("a file is re-parsed only in its team's folder", async () => {
    const aFile = put(join(base, "a", "etl.json"), bashDag("etl", "t"));
    put(join(base, "b", "etl.json"), bashDag("etl", "t"));
    await syncAll({
      dags_folder: "",
      team_dags_folders: [
        { team: "a", path: join(base, "a") },
        { team: "b", path: join(base, "b") },
      ],
      dags_folder_layout: "single",
    });
    await expect(folders?.reparse("b", aFile)).rejects.toThrow(`is not in the DAGs folder ${join(base, "b")} of team "b"`);
    await expect(folders?.reparse("c", aFile)).rejects.toThrow('team "c" has no DAGs folder on this server');
    expect((await folders?.reparse("a", aFile))?.parsed).toEqual([aFile]);
  });

  test("a team's file that parses slowly holds back no other team's DAGs", async () => {
    const finished = join(base, "slow-finished");
    put(
      join(base, "a", "slow.ts"),
      `import { writeFileSync } from "node:fs";\nawait Bun.sleep(6000);\nwriteFileSync(${JSON.stringify(finished)}, "");\n`,
    );
    put(join(base, "b", "etl.json"), bashDag("etl", "t"));
    const plans = await planTeamFolders({
      dags_folder: "",
      team_dags_folders: [
        { team: "a", path: join(base, "a") },
        { team: "b", path: join(base, "b") },
      ],
      dags_folder_layout: "single",
    });
    for (const p of plans) await store.ensureTeam(p.team, T0);
    // The server's parser: a code file in a child process of its own.
    const parser = new IsolatedDagParser({ command: selfCommand(), version: "test" });
    folders = new TeamDagFolders(
      plans.map((p) => ({ team: p.team, sync: new DagFolderSync({ ...p, store, parser, pausedOnCreate: false, logger: silentLogger }) })),
    );
    const syncing = folders.syncOnce(T0);
    await waitFor(
      async () => (await store.getDag("b", "etl")) !== null,
      10_000,
      () => "team b's DAG never appeared",
    );
    expect(existsSync(finished)).toBe(false); // team a's file is still being parsed
    // The server's first scan: it returns once every team's every file is stored.
    expect([...(await syncing).keys()]).toEqual(["a", "b"]);
    expect(existsSync(finished)).toBe(true);
    expect(await errorsOf("a")).toEqual(["a/slow.ts"]); // it defines no DAG
  }, 20_000);
});

describe("--dags-folder-layout=teams", () => {
  test("each top-level subfolder is its team's folder; the files at the top stay in default", async () => {
    const top = put(join(base, "etl.json"), bashDag("etl", "top"));
    const de = put(join(base, "data-eng", "etl.json"), bashDag("etl", "de"));
    put(join(base, "data-eng", "nested", "more.json"), bashDag("more", "x"));
    put(join(base, "data-eng", "bad.json"), "{ not json");
    put(join(base, "_lib", "shared.json"), "{}");
    const plans = await syncAll({ dags_folder: base, team_dags_folders: [], dags_folder_layout: "teams" });

    expect(plans.map((p) => [p.team, p.topOnly])).toEqual([
      ["default", true],
      ["data-eng", false],
    ]);
    expect((await store.getDag("default", "etl"))?.fileloc).toBe(top);
    expect((await store.getDag("data-eng", "etl"))?.fileloc).toBe(de);
    expect((await store.listDags("default")).items.map((d) => d.dag_id)).toEqual(["etl"]);
    expect((await store.listDags("data-eng")).items.map((d) => d.dag_id)).toEqual(["etl", "more"]);
    expect(await errorsOf("data-eng")).toEqual(["data-eng/bad.json"]);
    expect(await errorsOf("default")).toEqual([]);
    expect((await store.getPool("data-eng", "default_pool"))?.slots).toBe(128);
  });

  test.each([
    ["Bad_Name", '"Bad_Name" is not a valid team name'],
    ["default", "the team default's DAGs are the files at the top of"],
    ["ml", 'team "ml" already has the folder'],
  ])("a subfolder %p is refused at start with the folder and the fix", async (name, message) => {
    mkdirSync(join(base, name));
    const cfg = {
      dags_folder: base,
      team_dags_folders: [{ team: "ml", path: join(root, "ml-elsewhere") }],
      dags_folder_layout: "teams" as const,
    };
    const err = await planTeamFolders(cfg).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain(join(base, name));
    expect((err as Error).message).toContain(message);
  });

  test("hidden, `_` and node_modules subfolders are no team's", async () => {
    for (const name of [".git", "_lib", "node_modules"]) mkdirSync(join(base, name));
    const plans = await planTeamFolders({ dags_folder: base, team_dags_folders: [], dags_folder_layout: "teams" });
    expect(plans.map((p) => p.team)).toEqual(["default"]);
  });
});
