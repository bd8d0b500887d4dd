/**
 * src/args.ts answers as node:util's parseArgs does (strict) for the command lines main.ts and the serve
 * flags see: the same values and positionals, or an error with the same message. (Groups of short flags,
 * "-vx", are not among them: no command has short flags; src/args.ts calls the group unknown.)
 */
import { describe, expect, test } from "bun:test";
import { parseArgs as nodeParseArgs } from "node:util";
import { parseArgs, type ArgOption } from "../../src/args";

const OPTIONS: Record<string, ArgOption> = {
  db: { type: "string" },
  warm: { type: "boolean" },
  "dags-folder": { type: "string", multiple: true },
  tag: { type: "boolean", multiple: true },
  output: { type: "string", short: "o" },
  verbose: { type: "boolean", short: "v" },
};

const LINES: string[][] = [
  [],
  ["--db", "sqlite:x.db"],
  ["--db=sqlite:x.db"],
  ["--db="],
  ["--db", ""],
  ["--db", "-"],
  ["--db"],
  ["--db", "--warm"],
  ["--db", "-v"],
  ["--warm"],
  ["--warm=1"],
  ["--warm", "--warm"],
  ["--dags-folder", "a", "--dags-folder=b"],
  ["--tag", "--tag"],
  ["--nope"],
  ["--Db", "x"],
  ["--toString"],
  ["--__proto__", "x"],
  ["serve"],
  ["-"],
  ["--", "x"],
  ["--warm", "--", "--db"],
  ["-o", "json"],
  ["-ojson"],
  ["-o"],
  ["-o", "-x"],
  ["-v"],
  ["-x"],
  ["--output", "table", "--db", "a", "--db", "b"],
];

/** What a parser says about a command line: its values and positionals, or its error message. */
function outcome(parse: () => { values: object; positionals: string[] }): unknown {
  try {
    const { values, positionals } = parse();
    return { values: { ...values }, positionals };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

describe("parseArgs", () => {
  for (const allowPositionals of [false, true])
    test(`matches node:util's strict parseArgs (allowPositionals: ${allowPositionals})`, () => {
      for (const args of LINES) {
        const ours = outcome(() => parseArgs({ args, options: OPTIONS, allowPositionals }));
        const node = outcome(() => nodeParseArgs({ args, options: OPTIONS, strict: true, allowPositionals }));
        expect({ args, ...(ours as object) }).toEqual({ args, ...(node as object) });
      }
    });
});
