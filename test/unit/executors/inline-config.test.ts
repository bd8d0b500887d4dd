/** The inline flags: defaults, flag and env overrides, and a refusal that names the flag. */
import { expect, test } from "bun:test";
import { loadServeConfig, serveHelp } from "../../../src/config";

test("--inline-concurrency and --inline-max-seconds default to 64 and 300 and can be set by flag or env", () => {
  expect(loadServeConfig([], {})).toMatchObject({ inline_concurrency: 64, inline_max_seconds: 300 });
  expect(loadServeConfig(["--inline-concurrency", "8", "--inline-max-seconds", "30"], {})).toMatchObject({
    inline_concurrency: 8,
    inline_max_seconds: 30,
  });
  expect(loadServeConfig([], { LEOFLOW_INLINE_CONCURRENCY: "2" }).inline_concurrency).toBe(2);
  expect(() => loadServeConfig(["--inline-concurrency", "0"], {})).toThrow("--inline-concurrency");
  expect(serveHelp()).toContain("--inline-max-seconds N");
});
