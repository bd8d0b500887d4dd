/** spillLargeEnv: which variables leave the environment for a file, so the spawn cannot fail with E2BIG. */
import { describe, expect, test } from "bun:test";
import { MAX_ENV_STRING_BYTES, MAX_ENV_TOTAL_BYTES, spillLargeEnv } from "../../../src/agent/env-spill";

const argv = ["bash", "-c", "true"];

describe("spillLargeEnv", () => {
  test("an environment that fits is left alone", () => {
    const env = { PATH: "/usr/bin", LEOFLOW_CONF: "{}", LEOFLOW_XCOM_A: "x".repeat(100_000) };
    expect(spillLargeEnv(env, argv, "/t")).toEqual({ env, files: new Map(), moved: [] });
  });

  test("a variable over 128 KiB goes to a file named by NAME_FILE; multi-byte text counts in bytes", () => {
    const big = "é".repeat(70_000); // 140,000 bytes of UTF-8, 70,000 characters
    const r = spillLargeEnv({ PATH: "/usr/bin", LEOFLOW_XCOM_A: big }, argv, "/t");
    expect(r.env).toEqual({ PATH: "/usr/bin", LEOFLOW_XCOM_A_FILE: "/t/env/LEOFLOW_XCOM_A" });
    expect(r.files).toEqual(new Map([["/t/env/LEOFLOW_XCOM_A", big]]));
    expect(r.moved).toEqual([{ name: "LEOFLOW_XCOM_A", bytes: 140_000, path: "/t/env/LEOFLOW_XCOM_A" }]);
  });

  test("many values each under the limit but together over it: the largest go until the rest fit", () => {
    const env: Record<string, string> = { PATH: "/usr/bin" };
    for (let i = 0; i < 12; i++) env[`LEOFLOW_XCOM_T${i}`] = "y".repeat(100_000 + i);
    const r = spillLargeEnv(env, argv, "/t");
    const total = Object.entries(r.env).reduce((n, [k, v]) => n + k.length + v.length + 2, 0);
    expect(total).toBeLessThanOrEqual(MAX_ENV_TOTAL_BYTES);
    expect(r.moved.map((m) => m.name)).toEqual(["LEOFLOW_XCOM_T11", "LEOFLOW_XCOM_T10"]);
    expect(r.env.PATH).toBe("/usr/bin");
  });

  test("a NAME_FILE the task already has is not overwritten: that one value stays", () => {
    const big = "z".repeat(MAX_ENV_STRING_BYTES);
    const r = spillLargeEnv({ BIG: big, BIG_FILE: "mine" }, argv, "/t");
    expect(r.env).toEqual({ BIG: big, BIG_FILE: "mine" });
    expect(r.moved).toEqual([]);
  });
});
