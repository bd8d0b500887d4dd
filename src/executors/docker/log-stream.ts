/**
 * The Docker Engine's multiplexed log format (containers without a TTY): frames of an 8-byte header
 * (stream byte: 1 stdout, 2 stderr; 3 zero bytes; big-endian uint32 length) then the payload. Pure.
 *
 * @example demuxLogLines(bytes) // [{ stream: "stderr", line: "boom" }]
 */

export interface ContainerLogLine {
  stream: "stdout" | "stderr";
  line: string;
}

export function demuxLogLines(bytes: Uint8Array): ContainerLogLine[] {
  const decoder = new TextDecoder();
  const chunks: { stream: ContainerLogLine["stream"]; text: string }[] = [];
  let i = 0;
  // Not framed (a TTY container, or an engine that sends raw text): one stdout stream.
  if (bytes.length >= 8 && !(bytes[0]! <= 2 && bytes[1] === 0 && bytes[2] === 0 && bytes[3] === 0))
    return toLines([{ stream: "stdout", text: decoder.decode(bytes) }]);
  while (i + 8 <= bytes.length) {
    const size = ((bytes[i + 4]! << 24) | (bytes[i + 5]! << 16) | (bytes[i + 6]! << 8) | bytes[i + 7]!) >>> 0;
    const stream = bytes[i] === 2 ? "stderr" : "stdout";
    chunks.push({ stream, text: decoder.decode(bytes.subarray(i + 8, Math.min(bytes.length, i + 8 + size))) });
    i += 8 + size;
  }
  return toLines(chunks);
}

/** Joins consecutive chunks of a stream and splits them into lines (a frame may hold part of a line). */
function toLines(chunks: { stream: ContainerLogLine["stream"]; text: string }[]): ContainerLogLine[] {
  const out: ContainerLogLine[] = [];
  const pending: Record<string, string> = { stdout: "", stderr: "" };
  for (const c of chunks) {
    const parts = (pending[c.stream] + c.text).split("\n");
    pending[c.stream] = parts.pop()!;
    for (const line of parts) out.push({ stream: c.stream, line: line.replace(/\r$/, "") });
  }
  for (const stream of ["stdout", "stderr"] as const) if (pending[stream]) out.push({ stream, line: pending[stream]! });
  return out;
}
