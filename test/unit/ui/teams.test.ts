import { describe, expect, test } from "bun:test";
import { type Me, teamChoices, uiRole } from "../../../src/ui/app/me";
import { capabilities } from "../../../src/ui/app/session";

const me = (over: Partial<Me>): Me => ({ username: "ann", team: "default", role: "Viewer", roles: [], install_admin: false, ...over });

describe("team picker", () => {
  test("offers the teams the user holds a role in", () => {
    const m = me({
      roles: [
        { team: "beta", role: "Op" },
        { team: "default", role: "Viewer" },
      ],
    });
    expect(teamChoices(m)).toEqual(["beta", "default"]);
  });
  test("an install admin may act in every team, listed or not in their roles", () => {
    const m = me({ role: "Admin", roles: [{ team: "default", role: "Admin" }], install_admin: true });
    expect(teamChoices(m, ["alpha", "default", "zeta"])).toEqual(["alpha", "default", "zeta"]);
  });
  test("a user of one team gets no choice (the picker is not shown)", () => {
    expect(teamChoices(me({ roles: [{ team: "default", role: "User" }] }), ["other"])).toEqual(["default"]);
  });
  test("the buttons follow the role in the chosen team, not the token's", () => {
    expect(uiRole("Op")).toBe("op");
    expect(capabilities(uiRole("Op") ?? undefined).ops).toBe(true);
    expect(capabilities(uiRole("Viewer") ?? undefined).editRuns).toBe(false);
    expect(uiRole("Root")).toBeNull();
  });
});
