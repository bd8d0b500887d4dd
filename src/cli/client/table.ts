/**
 * Text tables for the CLI client: aligned columns that fit the terminal (pure: the width is an argument).
 * When the rows are wider than the terminal, the widest columns give way first and a cut cell ends in "…";
 * piped output (no width) is never cut, so `| grep` and `| cut` see whole values.
 *
 * @example renderTable(["DAG_ID", "PAUSED"], [["etl", "no"]], 80)  // "DAG_ID  PAUSED\netl     no\n"
 */

const GAP = "  ";
/** A column is never squeezed below this many cells (or its header, if shorter). */
const MIN_COLUMN = 6;

/** Renders rows under headers; `maxWidth` undefined or Infinity means "never cut". */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[], maxWidth?: number): string {
  const cells = [headers, ...rows].map((r) => headers.map((_, i) => oneLine(r[i] ?? "")));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => width(r[i]!))));
  fit(widths, headers, maxWidth ?? Number.POSITIVE_INFINITY);
  return cells
    .map((r) =>
      r
        .map((cell, i) => {
          const text = truncate(cell, widths[i]!);
          return i === r.length - 1 ? text : text + " ".repeat(widths[i]! - width(text));
        })
        .join(GAP)
        .trimEnd(),
    )
    .map((line) => line + "\n")
    .join("");
}

/** One record as FIELD  VALUE lines (what `get` prints): every field, objects and lists as compact JSON. */
export function renderRecord(record: Record<string, unknown>, maxWidth?: number): string {
  const rows = Object.entries(record).map(([k, v]) => [k, formatValue(v)]);
  return renderTable(["FIELD", "VALUE"], rows, maxWidth).split("\n").slice(1).join("\n");
}

/** A JSON value as a cell: null is empty, ISO timestamps lose their fraction of a second, objects are JSON. */
export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return shortTimestamp(v);
  if (typeof v === "boolean") return v ? "yes" : "no";
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  return JSON.stringify(v);
}

const ISO_WITH_FRACTION = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d+(Z|[+-]\d\d:\d\d)$/;
const shortTimestamp = (s: string) => s.replace(ISO_WITH_FRACTION, "$1$2");

/** Control characters would break the alignment: newlines show as "\n", other controls as a space. */
const oneLine = (s: string) => Array.from(s.replace(/\r?\n/g, "\\n"), (ch) => (ch < " " || ch === "\u007f" ? " " : ch)).join("");

const width = (s: string) => Bun.stringWidth(s);

/** Shrinks the widest column one cell at a time until the row fits (or nothing can shrink any more). */
function fit(widths: number[], headers: readonly string[], maxWidth: number): void {
  const floor = headers.map((h, i) => Math.min(widths[i]!, Math.max(MIN_COLUMN, width(h))));
  let total = widths.reduce((a, b) => a + b, 0) + GAP.length * (widths.length - 1);
  while (total > maxWidth) {
    let widest = -1;
    for (let i = 0; i < widths.length; i++) if (widths[i]! > floor[i]! && (widest < 0 || widths[i]! > widths[widest]!)) widest = i;
    if (widest < 0) return;
    widths[widest]!--;
    total--;
  }
}

/** Cuts `s` to `max` terminal cells, ending in "…" when cut (wide characters count as two). */
function truncate(s: string, max: number): string {
  if (width(s) <= max) return s;
  let out = "";
  for (const ch of s) {
    if (width(out + ch) > max - 1) break;
    out += ch;
  }
  return out + "…";
}
