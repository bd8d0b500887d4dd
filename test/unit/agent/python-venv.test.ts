import { describe, expect, test } from "bun:test";
import { inVenv, pipInstallArgs, venvKey, venvSettings } from "../../../src/agent";

describe("venvKey", () => {
  test("the same list in any order (and repeated) with the same Python shares an environment", () => {
    expect(venvKey(["b==1", "a==2"], "3.11.7")).toBe(venvKey(["a==2", " b==1", "a==2"], "3.11.7"));
    expect(venvKey(["a==2"], "3.11.7")).toMatch(/^[0-9a-f]{64}$/);
  });

  test("another list or another Python is another environment", () => {
    const base = venvKey(["a==2"], "3.11.7");
    expect(venvKey(["a==3"], "3.11.7")).not.toBe(base);
    expect(venvKey(["a==2", "b"], "3.11.7")).not.toBe(base);
    expect(venvKey(["a==2"], "3.12.1")).not.toBe(base);
  });
});

describe("pipInstallArgs", () => {
  const base = ["-m", "pip", "install", "--disable-pip-version-check", "--no-input", "-r", "/v/requirements.txt"];
  test.each([
    [{}, []],
    [{ indexUrl: "https://pypi.internal/simple" }, ["--index-url", "https://pypi.internal/simple"]],
    [{ findLinks: "/srv/wheels" }, ["--no-index", "--find-links", "/srv/wheels"]],
    [
      { indexUrl: "https://pypi.internal/simple", findLinks: "/srv/wheels" },
      ["--index-url", "https://pypi.internal/simple", "--find-links", "/srv/wheels"],
    ],
  ])("%j adds %j", (opts, extra) => {
    expect(pipInstallArgs(opts, "/v/requirements.txt")).toEqual([...base, ...extra]);
  });
});

describe("inVenv and venvSettings", () => {
  test("python3 becomes the environment's python, its bin goes first on PATH, VIRTUAL_ENV is set", () => {
    expect(inVenv(["python3", "-c", "print(1)"], { PATH: "/usr/bin", HOME: "/h" }, "/d/venvs/k")).toEqual({
      argv: ["/d/venvs/k/bin/python", "-c", "print(1)"],
      env: { PATH: "/d/venvs/k/bin:/usr/bin", HOME: "/h", VIRTUAL_ENV: "/d/venvs/k" },
    });
  });

  test("settings come from the executor's LEOFLOW_* values; no folder means no environments here", () => {
    expect(venvSettings({ LEOFLOW_PYTHON_VENVS_DIR: "/d/venvs", LEOFLOW_PIP_FIND_LINKS: "/w", LEOFLOW_PIP_INDEX_URL: "" })).toEqual({
      venvsDir: "/d/venvs",
      indexUrl: undefined,
      findLinks: "/w",
    });
    expect(venvSettings({}).venvsDir).toBe("");
  });
});
