import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { dirname } from "node:path";
import { newReturnValuePath, readReturnValue } from "../../../src/agent";

describe("return value", () => {
  test("each agent gets its own path, removed by cleanup", async () => {
    const a = await newReturnValuePath();
    const b = await newReturnValuePath();
    expect(a.path).not.toBe(b.path);
    expect(existsSync(dirname(a.path))).toBe(true);
    await a.cleanup();
    await b.cleanup();
    expect(existsSync(dirname(a.path))).toBe(false);
  });

  test.each<[string, string | null, { ok: false } | { ok: true; json: string }]>([
    ["absent", null, { ok: false }],
    ["empty", "", { ok: false }],
    ["whitespace", " \n", { ok: false }],
    ["object with newline", '{"rows": 42}\n', { ok: true, json: '{"rows":42}' }],
    ["number", "7", { ok: true, json: "7" }],
    ["string", '"done"', { ok: true, json: '"done"' }],
    ["null", "null", { ok: true, json: "null" }],
  ])("%s", async (_name, content, want) => {
    const rv = await newReturnValuePath();
    if (content !== null) await Bun.write(rv.path, content);
    expect(await readReturnValue(rv.path)).toEqual(want);
    await rv.cleanup();
  });

  test("invalid JSON says where and how to fix", async () => {
    const rv = await newReturnValuePath();
    await Bun.write(rv.path, "rows=42\n");
    const err = await readReturnValue(rv.path).catch((e: Error) => e);
    expect(String((err as Error).message)).toMatch(
      /^return value in \$LEOFLOW_RETURN_VALUE_PATH is not valid JSON: .+; write JSON, e\.g\. echo '\{"rows": 1\}'/,
    );
    await rv.cleanup();
  });
});
