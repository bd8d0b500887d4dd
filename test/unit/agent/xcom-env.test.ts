import { describe, expect, test } from "bun:test";
import { xcomEnv, xcomEnvName, xcomEnvVar } from "../../../src/agent";

describe("xcom env", () => {
  test.each([
    ["extract", "EXTRACT"],
    ["extract-users.v2", "EXTRACT_USERS_V2"],
    ["Load_All", "LOAD_ALL"],
    ["EXTRACT", "EXTRACT"],
    ["a b/c", "A_B_C"],
    ["tâche", "T_CHE"],
  ])("xcomEnvName(%p) = %p", (name, want) => {
    expect(xcomEnvName(name)).toBe(want);
  });

  test("xcomEnvVar is KEY=json", () => {
    expect(xcomEnvVar("extract-users", '{"rows": 42}')).toBe('LEOFLOW_XCOM_EXTRACT_USERS={"rows": 42}');
  });

  test("xcomEnv maps every input", () => {
    expect(xcomEnv({ extract: "1", "b-2": '"x"' })).toEqual({ LEOFLOW_XCOM_EXTRACT: "1", LEOFLOW_XCOM_B_2: '"x"' });
  });
});
