/**
 * Hostile DAG files for the security suite: each does at import one thing that used to take the server down
 * (exit, hang, late throw, runaway memory) or to leak from it (its environment into an import error), beside
 * a good SDK DAG that must keep running. `expected` is the reason the import error must give.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Short limits keep the suite quick: `--dag-parse-timeout 5 --dag-parse-memory 128Mi`. The runaway file must reach
 * the memory limit before the timeout on a loaded machine too: faulting in 256 MiB takes a process ~0.8 s of CPU
 * on this VM, and with a 2 s timeout and a 256 MiB limit CI saw it killed for time twice (once at 128 MiB).
 */
export const PARSE_ARGS = ["--dag-parse-timeout", "5", "--dag-parse-memory", "128Mi"];

const SDK = `import { dag } from "leoflow/sdk";\n`;

export const GOOD_DAG = "good_sdk";

export const HOSTILE: Record<string, { text: string; expected: RegExp }> = {
  "exit_at_import.ts": { text: `${SDK}process.exit(1);\n`, expected: /^exited with code 1 while importing/ },
  "throws.ts": {
    text: `${SDK}\nthrow new Error("no config for prod");\n`,
    expected: /^line 3, column \d+: error while importing: no config for prod$/,
  },
  "hang.ts": { text: `${SDK}while (true) {}\n`, expected: /^timed out after 5 s while importing/ },
  "late_timer.ts": {
    text: `${SDK}setTimeout(() => { throw new Error("late boom"); }, 0);\ndag({ dag_id: "late_timer" }, ({ bash }) => { bash({ task_id: "a", bash_command: "echo" }); });\n`,
    expected: /^line 2, column \d+: error in a callback while importing: late boom$/,
  },
  "timer_during_import.ts": {
    text: `${SDK}setTimeout(() => { throw new Error("boom mid-import"); }, 10);\nawait new Promise((r) => setTimeout(r, 500));\n`,
    expected: /error in a callback while importing: boom mid-import$/,
  },
  "runaway_memory.ts": {
    text: `const keep: number[][] = [];\nwhile (true) keep.push(new Array(1e6).fill(1));\n`,
    expected: /^exceeded 128 MiB of memory while importing/,
  },
  "syntax.ts": { text: `${SDK}const x = {\n  a: 1,,\n};\n`, expected: /^line 3, column 8: syntax error: / },
  // Would print the server's secrets into an import error any viewer reads, if the parse process had them.
  "leaks_env.ts": { text: `throw new Error("ENV " + JSON.stringify(process.env));\n`, expected: /error while importing: ENV \{/ },
  "alias_bomb.yaml": { text: aliasBomb(), expected: /invalid YAML: Excessive alias count/ },
};

/** Writes the good DAG and every hostile file into `<dir>/dags`. */
export function writeHostileFolder(dir: string): string {
  const dags = join(dir, "dags");
  mkdirSync(dags, { recursive: true });
  writeFileSync(
    join(dags, "good.ts"),
    `${SDK}dag({ dag_id: "${GOOD_DAG}" }, ({ bash, ts }) => {\n  const a = bash({ task_id: "a", bash_command: "echo hello" });\n  ts({ task_id: "b", upstream: [a] }, () => 42);\n});\n`,
  );
  for (const [name, { text }] of Object.entries(HOSTILE)) writeFileSync(join(dags, name), text);
  return dags;
}

/** "Billion laughs": nine levels of nine aliases each. */
function aliasBomb(): string {
  const lines = [`a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]`];
  const names = "abcdefghi";
  for (let i = 1; i < names.length; i++)
    lines.push(
      `${names[i]}: &${names[i]} [${Array(9)
        .fill(`*${names[i - 1]}`)
        .join(",")}]`,
    );
  return lines.join("\n") + "\n";
}
