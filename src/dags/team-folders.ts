/**
 * The DAG folders of every team, each synced into its own team: `--dags-folder PATH` is the team default's,
 * `--dags-folder TEAM=PATH` TEAM's, and under `--dags-folder-layout=teams` each top-level subfolder of the
 * default folder is the folder of the team of its name (the files at the top stay in default). Subfolders
 * are read once, at start: a team's folder is configuration, like the flag.
 */
import { readdir, stat } from "node:fs/promises";
import { join, resolve } from "node:path";
import { DEFAULT_TEAM, teamNameProblem, type DagsFolderLayout, type TeamFolder } from "../domain";
import type { DagFolderSync, SyncReport } from "./folder-sync";
import { skipDir } from "./scan";

/** One team's folder and how deep it is scanned. */
export interface TeamFolderPlan {
  team: string;
  folder: string;
  /** Only the folder's own files: the default folder under the teams layout, whose subfolders are teams'. */
  topOnly: boolean;
}

export interface TeamFoldersConfig {
  /** The team default's folder; "" for none. */
  dags_folder: string;
  team_dags_folders: TeamFolder[];
  dags_folder_layout: DagsFolderLayout;
}

/**
 * The folders to sync, one per team, default first. Under the teams layout lists the default folder's
 * subfolders (skipping hidden, `_` and node_modules ones, as the scan does) and refuses, with the folder and
 * the fix, a subfolder whose name is not a team name or names a team that already has a folder.
 */
export async function planTeamFolders(cfg: TeamFoldersConfig): Promise<TeamFolderPlan[]> {
  const plans: TeamFolderPlan[] = [];
  const teams = cfg.dags_folder_layout === "teams";
  if (cfg.dags_folder !== "") plans.push({ team: DEFAULT_TEAM, folder: resolve(cfg.dags_folder), topOnly: teams });
  for (const f of cfg.team_dags_folders) plans.push({ team: f.team, folder: resolve(f.path), topOnly: false });
  if (!teams) return plans;
  const root = resolve(cfg.dags_folder);
  const entries = await readdir(root, { withFileTypes: true }).catch(() => {
    throw new Error(`DAG folder "${root}" does not exist or is not a folder; create it or point --dags-folder at an existing folder`);
  });
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (skipDir(e.name)) continue;
    const path = join(root, e.name);
    const isDir = e.isDirectory() || (e.isSymbolicLink() && (await stat(path).catch(() => null))?.isDirectory() === true);
    if (!isDir) continue;
    const where = `"${path}" (a subfolder of the DAGs folder under --dags-folder-layout=teams is the folder of the team of its name)`;
    const problem = teamNameProblem(e.name);
    if (problem) throw new Error(`${where}: ${problem}; rename the folder, or start its name with "_" to keep it out of every team`);
    if (e.name === DEFAULT_TEAM)
      throw new Error(`${where}: the team default's DAGs are the files at the top of ${root}; move them there and remove the folder`);
    const other = plans.find((p) => p.team === e.name);
    if (other)
      throw new Error(`${where}: team "${e.name}" already has the folder ${other.folder} (--dags-folder ${e.name}=…); keep one of the two`);
    plans.push({ team: e.name, folder: path, topOnly: false });
  }
  return plans;
}

/** The syncs of all teams' folders, driven together: what the server starts, stops and asks to re-parse. */
export class TeamDagFolders {
  private readonly syncs: Map<string, DagFolderSync>;

  constructor(syncs: { team: string; sync: DagFolderSync }[]) {
    this.syncs = new Map(syncs.map((s) => [s.team, s.sync]));
  }

  /** The teams that have a folder, in start order. */
  get teams(): string[] {
    return [...this.syncs.keys()];
  }

  /**
   * Syncs every team's folder once, side by side: a team's file that parses slowly (up to the parse timeout)
   * holds back no other team's DAGs. Rejects when a folder itself is unusable.
   */
  async syncOnce(now: Date = new Date()): Promise<Map<string, SyncReport>> {
    const synced = await Promise.all([...this.syncs].map(async ([team, sync]) => [team, await sync.syncOnce(now)] as const));
    return new Map(synced);
  }

  start(): void {
    for (const sync of this.syncs.values()) sync.start();
  }

  stop(): void {
    for (const sync of this.syncs.values()) sync.stop();
  }

  /** Parses one file of `team`'s folder again (PUT /parseDagFile); a team without a folder is refused. */
  async reparse(team: string, file: string, now?: Date): Promise<SyncReport> {
    const sync = this.syncs.get(team);
    if (!sync) throw new Error(`team "${team}" has no DAGs folder on this server, so ${file} cannot be parsed for it`);
    return sync.reparse(file, now);
  }
}
