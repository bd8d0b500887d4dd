import { describe, expect, test } from "bun:test";
import { LogShipper } from "../../../src/agent";

type Batch = { firstSeq: number; lines: string[] };

function recorder() {
  const batches: Batch[] = [];
  const send = async (firstSeq: number, lines: { line: string }[]) => {
    batches.push({ firstSeq, lines: lines.map((l) => l.line) });
  };
  return { batches, send };
}

describe("LogShipper", () => {
  test("numbers lines from 0 and splits batches at maxBatchLines, in order", async () => {
    const r = recorder();
    const s = new LogShipper(r.send, { maxBatchLines: 2, flushIntervalMs: 60_000 });
    for (const l of ["a", "b", "c", "d", "e"]) s.add("stdout", l);
    await s.close();
    expect(r.batches).toEqual([
      { firstSeq: 0, lines: ["a", "b"] },
      { firstSeq: 2, lines: ["c", "d"] },
      { firstSeq: 4, lines: ["e"] },
    ]);
  });

  test("takeLast: the held lines after every earlier batch is sent, numbered next and masked; nothing more is sent", async () => {
    let release!: () => void;
    const inFlight = new Promise<void>((r) => (release = r));
    const batches: Batch[] = [];
    const s = new LogShipper(
      async (firstSeq, lines) => {
        if (!batches.length) await inFlight; // the first batch is slow to land
        batches.push({ firstSeq, lines: lines.map((l) => l.line) });
      },
      { maxBatchLines: 2, flushIntervalMs: 60_000 },
    );
    s.masker.add("hunter2");
    for (const l of ["a", "b", "c", "d", "pw hunter2"]) s.add("stdout", l);
    const last = s.takeLast();
    let took = false;
    void last.then(() => (took = true));
    await Bun.sleep(5);
    expect(took).toBe(false); // waits for the batches before it
    release();
    expect(await last).toMatchObject({ firstSeq: 4, lines: [{ stream: "stdout", line: "pw ***" }] });
    expect(batches).toEqual([
      { firstSeq: 0, lines: ["a", "b"] },
      { firstSeq: 2, lines: ["c", "d"] },
    ]);
  });

  test("takeLast with more held than one batch sends all but the last batch the usual way", async () => {
    const r = recorder();
    const s = new LogShipper(r.send, { maxBatchLines: 500, flushIntervalMs: 60_000 });
    const held = Array.from({ length: 700 }, (_, i) => `l${i}`);
    // Held past one batch without a flush (as after a cap note): queued directly.
    for (const l of held) (s as unknown as { queue(stream: string, line: string): void }).queue("stdout", l);
    const last = await s.takeLast();
    expect(r.batches).toEqual([{ firstSeq: 0, lines: held.slice(0, 200) }]);
    expect(last.firstSeq).toBe(200);
    expect(last.lines.map((l) => l.line)).toEqual(held.slice(200));
  });

  test("caps the try's total and says so once", async () => {
    const r = recorder();
    const s = new LogShipper(r.send, { maxTotalBytes: 10, flushIntervalMs: 60_000 });
    for (const l of ["1234", "5678", "9abc", "more", "even more"]) s.add("stdout", l);
    await s.close();
    expect(r.batches.flatMap((b) => b.lines)).toEqual([
      "1234",
      "5678",
      "log limit of 10 bytes reached for this try; further output is dropped",
    ]);
  });

  test("a batch the server refuses is dropped, later ones keep their numbers", async () => {
    const sent: number[] = [];
    let calls = 0;
    const s = new LogShipper(
      async (firstSeq) => {
        if (calls++ === 0) throw new Error("unavailable");
        sent.push(firstSeq);
      },
      { maxBatchLines: 1, flushIntervalMs: 60_000 },
    );
    s.add("stdout", "a");
    s.add("stdout", "b");
    await s.close();
    expect(sent).toEqual([1]);
  });
});
