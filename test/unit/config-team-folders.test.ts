/**
 * `--dags-folder` per team (issue 21): PATH is the team default's folder, TEAM=PATH (repeatable, or
 * comma-separated in LEOFLOW_DAGS_FOLDER) another team's, and `--dags-folder-layout=teams` reads the default
 * folder's subfolders as teams. Bad forms are refused naming the value and the fix.
 */
import { describe, expect, test } from "bun:test";
import { loadServeConfig } from "../../src/config";
import { parseTeamFolders } from "../../src/domain";

const folders = (argv: string[], env: Record<string, string> = {}) => {
  const cfg = loadServeConfig(argv, env);
  return { dags_folder: cfg.dags_folder, team_dags_folders: cfg.team_dags_folders, layout: cfg.dags_folder_layout };
};
const refusal = (argv: string[]) => {
  try {
    loadServeConfig(argv, {});
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`${argv.join(" ")} was accepted`);
};

describe("--dags-folder", () => {
  test("without the flag the team default's folder is ./dags, as before teams", () => {
    expect(folders([])).toEqual({ dags_folder: "./dags", team_dags_folders: [], layout: "single" });
  });

  test("PATH is the team default's folder; TEAM=PATH, repeated, another team's", () => {
    expect(folders(["--dags-folder", "/srv/dags", "--dags-folder", "data-eng=/srv/de", "--dags-folder", "ml=./ml"])).toEqual({
      dags_folder: "/srv/dags",
      team_dags_folders: [
        { team: "data-eng", path: "/srv/de" },
        { team: "ml", path: "./ml" },
      ],
      layout: "single",
    });
  });

  test("only TEAM=PATH values leave the team default without a folder", () => {
    expect(folders(["--dags-folder", "ml=/srv/ml"]).dags_folder).toBe("");
  });

  test("LEOFLOW_DAGS_FOLDER takes the same values, comma-separated", () => {
    expect(folders([], { LEOFLOW_DAGS_FOLDER: "/srv/dags, ml=/srv/ml" })).toEqual({
      dags_folder: "/srv/dags",
      team_dags_folders: [{ team: "ml", path: "/srv/ml" }],
      layout: "single",
    });
  });

  test("a path with '=' after a separator stays a path of the team default", () => {
    expect(folders(["--dags-folder", "./a=b"]).dags_folder).toBe("./a=b");
  });

  test.each([
    [["--dags-folder", "=/srv/x"], '"=/srv/x" names no team before "="; write TEAM=PATH'],
    [["--dags-folder", "Data_Eng=/srv/x"], '"Data_Eng=/srv/x": "Data_Eng" is not a valid team name: use 1–63 lower-case letters'],
    [["--dags-folder", "ml="], '"ml=" names no folder for team "ml"; write TEAM=PATH (e.g. ml=/srv/dags)'],
    [["--dags-folder", "ml=/a", "--dags-folder", "ml=/b"], 'team "ml" is given two folders, /a and /b'],
    [["--dags-folder", "/a", "--dags-folder", "/b"], "a value without TEAM= is the folder of team default"],
    [["--dags-folder", "/srv/dags", "--dags-folder", "ml=/srv/dags/ml"], 'teams "default" (/srv/dags) and "ml" (/srv/dags/ml) are nested'],
    [["--dags-folder", "a=/x", "--dags-folder", "b=/x/"], 'teams "a" (/x) and "b" (/x/) are the same folder'],
  ])("%p is refused: %s", (argv, message) => {
    const m = refusal(argv);
    expect(m).toStartWith("--dags-folder: ");
    expect(m).toContain(message);
  });
});

describe("--dags-folder-layout", () => {
  test("teams is accepted with the team default's folder", () => {
    expect(folders(["--dags-folder", "/srv/dags", "--dags-folder-layout", "teams"]).layout).toBe("teams");
  });

  test("teams without the team default's folder is refused with the fix", () => {
    expect(refusal(["--dags-folder", "ml=/srv/ml", "--dags-folder-layout=teams"])).toContain(
      "--dags-folder-layout=teams: needs the folder of team default, whose subfolders are the teams' folders; add --dags-folder PATH",
    );
  });

  test("an unknown layout names the accepted ones", () => {
    expect(refusal(["--dags-folder-layout", "nested"])).toContain("--dags-folder-layout: expects single or teams");
  });
});

describe("parseTeamFolders", () => {
  test("relative folders are compared after resolving against the working directory", () => {
    const r = parseTeamFolders(["a=./x/../y", "b=/work/y"], "./dags", "/work");
    expect(r.ok ? [] : r.problems).toEqual([
      'the folders of teams "a" (./x/../y) and "b" (/work/y) are the same folder; a DAG file must belong to one team: give each team its own folder, or use --dags-folder-layout=teams for one subfolder per team',
    ]);
  });

  test("sibling folders whose names share a prefix are not nested", () => {
    expect(parseTeamFolders(["a=/srv/dags", "b=/srv/dags-b"], "./dags", "/").ok).toBe(true);
  });
});
