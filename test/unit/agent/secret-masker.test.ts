import { describe, expect, test } from "bun:test";
import { LogShipper, SecretMasker } from "../../../src/agent";

describe("SecretMasker", () => {
  test("replaces every occurrence, the longest secret first", () => {
    const m = new SecretMasker();
    m.add("s3cret");
    m.add("s3cret-and-more");
    expect(m.mask("a s3cret-and-more b s3cret c s3cret")).toBe("a *** b *** c ***");
  });

  test("a multi-line secret is masked line by line; very short values are not masked", () => {
    const m = new SecretMasker();
    m.add("-----BEGIN KEY-----\nAAAAbbbbCCCC\n-----END KEY-----");
    m.add("ab");
    m.add("");
    expect(m.size).toBe(3);
    expect(m.mask("AAAAbbbbCCCC")).toBe("***");
    expect(m.mask("tab and grab")).toBe("tab and grab");
  });

  test("a line without secrets is unchanged", () => {
    const m = new SecretMasker();
    m.add("hunter2");
    expect(m.mask("nothing to see")).toBe("nothing to see");
  });
});

describe("LogShipper masks secrets", () => {
  function recorder() {
    const lines: string[] = [];
    return { lines, send: async (_seq: number, batch: { line: string }[]) => void lines.push(...batch.map((l) => l.line)) };
  }

  test("secrets added to its masker never leave in a batch, on any stream", async () => {
    const r = recorder();
    const s = new LogShipper(r.send, { flushIntervalMs: 60_000 });
    s.masker.add("pa55word");
    s.add("stdout", "connecting with pa55word");
    s.add("agent", "pa55word again");
    await s.close();
    expect(r.lines).toEqual(["connecting with ***", "*** again"]);
  });

  test("a secret the task reports before printing it is masked in the batch that carries the line", async () => {
    const r = recorder();
    const reported: string[] = [];
    const s = new LogShipper(r.send, { flushIntervalMs: 60_000 });
    s.followSecrets({ readNew: () => reported.splice(0) });
    s.add("stdout", "before: nothing secret");
    await s.flush();
    reported.push("tok-98765"); // `leoflow task var get api_token` appends to the mask file, then prints
    s.add("stdout", "tok-98765");
    await s.close();
    expect(r.lines).toEqual(["before: nothing secret", "***"]);
  });

  test("a mask source that fails is noted, and shipping goes on", async () => {
    const r = recorder();
    const warnings: string[] = [];
    const logger = { warn: (m: string) => void warnings.push(m) } as never;
    const s = new LogShipper(r.send, { flushIntervalMs: 60_000, logger });
    s.followSecrets({
      readNew: () => {
        throw new Error("EACCES");
      },
    });
    s.add("stdout", "still shipped");
    await s.close();
    expect(r.lines).toEqual(["still shipped"]);
    expect(warnings).toEqual(["could not read the task's mask file; secrets it read later may show in its log"]);
  });
});
