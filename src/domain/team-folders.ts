/**
 * Which folder holds which team's DAGs, from the `--dags-folder` values: `PATH` is the folder of the team
 * `default` (as before teams), `TEAM=PATH` (repeatable) the folder of TEAM. Pure: paths are compared as
 * written after normalising `.`/`..` and trailing slashes against `cwd`, never looked up on disk.
 */
import { DEFAULT_TEAM, teamNameProblem } from "./teams";

/** One team's DAG folder. */
export interface TeamFolder {
  team: string;
  path: string;
}

export type DagsFolderLayout = "single" | "teams";

/** The parsed folders, or the problems of the values (each names the value and how to fix it). */
export type TeamFoldersResult = { ok: true; folders: TeamFolder[] } | { ok: false; problems: string[] };

/**
 * A value is TEAM=PATH when it has an `=` and the text before the first one has no path separator; so
 * `./a=b` and `/srv/a=b` stay plain paths of the default team.
 */
function splitValue(value: string): { team: string | null; path: string } {
  const eq = value.indexOf("=");
  if (eq < 0) return { team: null, path: value };
  const head = value.slice(0, eq);
  if (/[/\\]/.test(head)) return { team: null, path: value };
  return { team: head, path: value.slice(eq + 1) };
}

/** `path` made absolute against `cwd`, without a trailing separator (`/` stays `/`). */
function normalise(path: string, cwd: string): string {
  const parts: string[] = [];
  for (const part of (path.startsWith("/") ? path : `${cwd}/${path}`).split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}

const contains = (outer: string, inner: string) => outer === inner || inner.startsWith(outer === "/" ? "/" : `${outer}/`);

/**
 * Parses the `--dags-folder` values (flags in order, or the comma-separated environment / file value).
 * With no value at all the default team's folder is `fallback`; with only TEAM=PATH values the team
 * `default` has no folder. Refuses: an empty TEAM or PATH, an invalid team name, a team given twice, and two
 * teams' folders that are the same or nested (a file would belong to two teams).
 *
 * @example parseTeamFolders(["/srv/dags", "data-eng=/srv/de"], "./dags", "/") // { ok: true, folders: [{ team: "default", path: "/srv/dags" }, { team: "data-eng", path: "/srv/de" }] }
 */
export function parseTeamFolders(values: readonly string[], fallback: string, cwd: string): TeamFoldersResult {
  const problems: string[] = [];
  const folders: TeamFolder[] = [];
  for (const value of values.length ? values : [fallback]) {
    const { team, path } = splitValue(value.trim());
    const name = team ?? DEFAULT_TEAM;
    if (team !== null && team === "") {
      problems.push(`"${value}" names no team before "="; write TEAM=PATH (e.g. data-eng=/srv/dags/data-eng), or ./${value} for a folder`);
      continue;
    }
    const badName = team === null ? null : teamNameProblem(team);
    if (badName) {
      const asFolder = path.startsWith("/") ? "" : `; for a folder whose name contains "=", write it as ./${value}`;
      problems.push(`"${value}": ${badName}${asFolder}`);
      continue;
    }
    if (path.trim() === "") {
      problems.push(`"${value}" names no folder${team === null ? "" : ` for team "${team}"`}; write TEAM=PATH (e.g. ${name}=/srv/dags)`);
      continue;
    }
    const twice = folders.find((f) => f.team === name);
    if (twice) {
      problems.push(
        `team "${name}" is given two folders, ${twice.path} and ${path}; give each team one folder (${team === null ? "a value without TEAM= is the folder of team default" : "remove one of them"})`,
      );
      continue;
    }
    folders.push({ team: name, path });
  }
  for (const [i, a] of folders.entries())
    for (const b of folders.slice(i + 1)) {
      const [pa, pb] = [normalise(a.path, cwd), normalise(b.path, cwd)];
      if (contains(pa, pb) || contains(pb, pa))
        problems.push(
          `the folders of teams "${a.team}" (${a.path}) and "${b.team}" (${b.path}) ${pa === pb ? "are the same folder" : "are nested"}; a DAG file must belong to one team: give each team its own folder, or use --dags-folder-layout=teams for one subfolder per team`,
        );
    }
  return problems.length ? { ok: false, problems } : { ok: true, folders };
}
