import { describe, expect, test } from "bun:test";
import { LineSplitter } from "../../../src/agent";

const enc = (s: string) => new TextEncoder().encode(s);

function split(chunks: Uint8Array[], max?: number): string[] {
  const s = new LineSplitter(max);
  return [...chunks.flatMap((c) => s.push(c)), ...s.end()];
}

describe("LineSplitter", () => {
  test.each<[string, Uint8Array[], string[]]>([
    ["one line", [enc("hello\n")], ["hello"]],
    ["no trailing newline", [enc("a\nb")], ["a", "b"]],
    ["split across chunks", [enc("hel"), enc("lo\nwor"), enc("ld\n")], ["hello", "world"]],
    ["empty lines kept", [enc("a\n\nb\n")], ["a", "", "b"]],
    ["crlf", [enc("a\r\nb\r\n")], ["a", "b"]],
    ["nothing", [], []],
    ["utf-8 split inside a character", [new Uint8Array([0x68, 0xc3]), new Uint8Array([0xa9, 0x0a])], ["hé"]],
    ["invalid utf-8 becomes replacement chars", [new Uint8Array([0x61, 0xff, 0xfe, 0x00, 0x62, 0x0a])], ["a\uFFFD\uFFFD\u0000b"]],
  ])("%s", (_name, chunks, want) => {
    expect(split(chunks)).toEqual(want);
  });

  test("a long line is capped with a marker, the next line is intact", () => {
    expect(split([enc("abcdefghij"), enc("klmno\nok\n")], 4)).toEqual(["abcd [truncated 11 bytes]", "ok"]);
  });

  test("a 1 MiB line at the default cap keeps 64 KiB", () => {
    const [line, next] = split([new Uint8Array(1024 * 1024).fill(0x78), enc("\nz")]);
    expect(line).toBe("x".repeat(65536) + ` [truncated ${1024 * 1024 - 65536} bytes]`);
    expect(next).toBe("z");
  });
});
