/**
 * The agent's hand-encoded AppendLogsRequest (wire-logs.ts) decodes, with protobuf's own runtime and the generated
 * schema the server's router uses, to the batch it was made from: text in any script, lone surrogates as U+FFFD,
 * empty and zero fields, the largest safe timestamps, and batches of one to many lines.
 */
import { fromBinary, toBinary, create } from "@bufbuild/protobuf";
import { describe, expect, test } from "bun:test";
import { appendLogsRequestBytes, type WireLogLine } from "../../../src/agent/wire-logs";
import { AppendLogsRequestSchema, LogLineSchema } from "../../../src/gen/leoflow/agent/v1/agent_pb";

const decoded = (firstSeq: number, lines: WireLogLine[]) => {
  const m = fromBinary(AppendLogsRequestSchema, appendLogsRequestBytes(firstSeq, lines));
  return {
    firstSeq: Number(m.firstSeq),
    lines: m.lines.map((l) => ({ timestampMs: Number(l.timestampMs), stream: l.stream, line: l.line })),
  };
};

describe("appendLogsRequestBytes", () => {
  test("decodes to the same batch: any script, emoji, empty and zero fields, the largest safe numbers", () => {
    const lines: WireLogLine[] = [
      { timestampMs: 1_764_900_000_123, stream: "stdout", line: "plain ascii" },
      { timestampMs: 1, stream: "stderr", line: "größe · 数据 · данные · 🚀🧪" },
      { timestampMs: 0, stream: "agent", line: "" },
      { timestampMs: Number.MAX_SAFE_INTEGER, stream: "", line: "x".repeat(70_000) },
      { timestampMs: 127, stream: "s", line: "\u0000 and tabs\tand\nnewlines" },
    ];
    expect(decoded(0, lines)).toEqual({ firstSeq: 0, lines });
    expect(decoded(128, lines.slice(0, 1))).toEqual({ firstSeq: 128, lines: lines.slice(0, 1) });
    expect(decoded(Number.MAX_SAFE_INTEGER, [])).toEqual({ firstSeq: Number.MAX_SAFE_INTEGER, lines: [] });
  });

  test("a lone surrogate arrives as U+FFFD, as the JSON path and the store keep it", () => {
    expect(decoded(3, [{ timestampMs: 5, stream: "stdout", line: "a\ud800b" }]).lines[0]!.line).toBe("a\ufffdb");
  });

  test("the bytes are protobuf's own for the same message (canonical: zero and empty fields left out)", () => {
    const lines = Array.from({ length: 500 }, (_, i) => ({
      timestampMs: 1_764_900_000_000 + i,
      stream: i % 2 ? "stderr" : "stdout",
      line: `line ${i} ✓`,
    }));
    const reference = toBinary(
      AppendLogsRequestSchema,
      create(AppendLogsRequestSchema, {
        firstSeq: 1_000n,
        lines: lines.map((l) => create(LogLineSchema, { timestampMs: BigInt(l.timestampMs), stream: l.stream, line: l.line })),
      }),
    );
    expect(Buffer.from(appendLogsRequestBytes(1_000, lines)).equals(Buffer.from(reference))).toBe(true);
  });
});
