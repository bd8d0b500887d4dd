import { describe, expect, test } from "bun:test";
import { formatValue, renderRecord, renderTable } from "../../../src/cli/client/table";

describe("renderTable", () => {
  test("aligns columns under their headers, two spaces apart, no trailing spaces", () => {
    const out = renderTable(
      ["DAG_ID", "PAUSED", "SCHEDULE"],
      [
        ["etl", "no", "@daily"],
        ["a_longer_dag", "yes", ""],
      ],
    );
    expect(out).toBe("DAG_ID        PAUSED  SCHEDULE\netl           no      @daily\na_longer_dag  yes\n");
  });

  test("without a width (a pipe) nothing is cut", () => {
    const long = "x".repeat(300);
    expect(renderTable(["K", "V"], [["a", long]])).toContain(long);
  });

  test("a table wider than the terminal shrinks its widest column and marks the cut with …", () => {
    const out = renderTable(
      ["KEY", "VALUE"],
      [
        ["short", "a very long value that does not fit on the line"],
        ["k2", "v"],
      ],
      30,
    );
    const lines = out.trimEnd().split("\n");
    for (const line of lines) expect(Bun.stringWidth(line)).toBeLessThanOrEqual(30);
    expect(lines[1]).toBe("short  a very long value that…");
    expect(lines[2]).toBe("k2     v");
  });

  test("columns never shrink below their header or six cells, even if the line stays too wide", () => {
    const out = renderTable(["CONNECTION", "TYPE"], [["abcdefghijklmnop", "postgres"]], 5);
    expect(out.split("\n")[1]).toBe("abcdefghi…  postg…");
  });

  test("wide characters count as two cells", () => {
    const out = renderTable(["NAME", "X"], [["日本語", "1"]]);
    expect(out).toBe("NAME    X\n日本語  1\n");
  });

  test("newlines and control characters inside a cell do not break the row", () => {
    expect(renderTable(["V"], [["line1\nline2\tend"]])).toBe("V\nline1\\nline2 end\n");
  });
});

describe("renderRecord", () => {
  test("one FIELD VALUE line per field, objects as JSON, nulls empty", () => {
    const out = renderRecord({ dag_id: "etl", is_paused: false, conf: { a: 1 }, note: null });
    expect(out).toBe('dag_id     etl\nis_paused  no\nconf       {"a":1}\nnote\n');
  });
});

describe("formatValue", () => {
  test("timestamps lose the fraction of a second but keep their zone", () => {
    expect(formatValue("2026-12-03T06:53:56.123456Z")).toBe("2026-12-03T06:53:56Z");
    expect(formatValue("2026-12-03T06:53:56.1+02:00")).toBe("2026-12-03T06:53:56+02:00");
    expect(formatValue("not.a.date.123")).toBe("not.a.date.123");
  });
  test("booleans read yes/no, numbers as written, lists as JSON", () => {
    expect([formatValue(true), formatValue(0), formatValue(["a"]), formatValue(undefined)]).toEqual(["yes", "0", '["a"]', ""]);
  });
});
