/** Which team a request acts in, and with which role (the rule requireUser applies). */
import { describe, expect, test } from "bun:test";
import { chooseTeam, isInstallAdmin, requestedTeam } from "../../../src/api/request-team";

const r = (team: string, role: "viewer" | "user" | "op" | "admin") => ({ team, role });

describe("chooseTeam", () => {
  test("a named team: the caller's role there, or null when they have none", () => {
    expect(chooseTeam("b", [r("a", "viewer"), r("b", "op")])).toEqual({ team: "b", role: "op" });
    expect(chooseTeam("c", [r("a", "viewer"), r("b", "op")])).toEqual({ team: "c", role: null });
  });

  test("no team named: the only team, else `default` when the caller has a role there, else the first by name", () => {
    expect(chooseTeam(undefined, [r("b", "op")])).toEqual({ team: "b", role: "op" });
    expect(chooseTeam(undefined, [r("a", "viewer"), r("default", "user"), r("z", "op")])).toEqual({ team: "default", role: "user" });
    expect(chooseTeam(undefined, [r("z", "op"), r("b", "viewer")])).toEqual({ team: "b", role: "viewer" });
  });

  test("no team named and no role anywhere: null", () => {
    expect(chooseTeam(undefined, [])).toBeNull();
  });
});

describe("the team a request names", () => {
  test("the header wins over ?team=; blank counts as absent", () => {
    expect(requestedTeam("a", "b")).toBe("a");
    expect(requestedTeam(undefined, "b")).toBe("b");
    expect(requestedTeam(" ", "")).toBeUndefined();
  });

  test("an install admin is an Admin of `default`, not of another team", () => {
    expect(isInstallAdmin([r("default", "admin")])).toBe(true);
    expect(isInstallAdmin([r("a", "admin"), r("default", "op")])).toBe(false);
  });
});
