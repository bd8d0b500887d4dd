/**
 * The warm agent makes each try's temp folder (the return value's file, `bin/leoflow`) while it waits for the
 * try, and removes it after: in-process, with a stand-in for the try (runAgent), on the real file system.
 */
import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { formatAssignment, runWarmAgent } from "../../../src/agent";
import { silentLogger } from "../../../src/observability";

function input(lines: string[]): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(lines.join(""));
  return new ReadableStream({
    start(c) {
      c.enqueue(bytes);
      c.close();
    },
  });
}

test("each try gets a temp folder of its own, made before the try and removed after it", async () => {
  const dirs: { path: string; during: boolean; shim: boolean }[] = [];
  await runWarmAgent({
    logger: silentLogger,
    env: { PATH: "/usr/bin" },
    input: input([
      formatAssignment({ LEOFLOW_AGENT_TOKEN: "t1", LEOFLOW_SERVER: "http://a" }),
      formatAssignment({ LEOFLOW_AGENT_TOKEN: "t2", LEOFLOW_SERVER: "http://a" }),
    ]),
    run: async (o) => {
      const d = await o.tryDir!;
      dirs.push({ path: d.path, during: existsSync(d.path), shim: existsSync(`${d.binDir}/leoflow`) });
      return 0;
    },
  });
  expect(dirs.map((d) => [d.during, d.shim])).toEqual([
    [true, true],
    [true, true],
  ]);
  expect(dirs[0]!.path).not.toBe(dirs[1]!.path);
  // Removed after each try, and the one made for a next try that never came is removed when the agent ends.
  expect(dirs.map((d) => existsSync(d.path))).toEqual([false, false]);
});
