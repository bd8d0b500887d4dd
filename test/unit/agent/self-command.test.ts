import { describe, expect, test } from "bun:test";
import { isAbsolute } from "node:path";
import { isCompiledBinary, selfCommand } from "../../../src/agent";

describe("selfCommand", () => {
  test.each([
    ["/$bunfs/root/leoflow", true],
    ["B:/~BUN/root/leoflow.exe", true],
    ["/work/main/src/main.ts", false],
  ])("isCompiledBinary(%p) = %p", (main, want) => {
    expect(isCompiledBinary(main)).toBe(want);
  });

  test("compiled: the binary alone", () => {
    expect(selfCommand("/$bunfs/root/leoflow", "/usr/local/bin/leoflow")).toEqual(["/usr/local/bin/leoflow"]);
  });

  test("from source: bun and the absolute path of src/main.ts", () => {
    const [bun, main, ...rest] = selfCommand("/work/main/test/x.test.ts", "/usr/bin/bun");
    expect(bun).toBe("/usr/bin/bun");
    expect(isAbsolute(main!)).toBe(true);
    expect(main!.endsWith("/src/main.ts")).toBe(true);
    expect(rest).toEqual([]);
  });
});
