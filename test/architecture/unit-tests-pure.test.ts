/**
 * Unit tests do no I/O: no files, no processes, no sockets or ports, no database but SQLite in memory. What
 * needs any of those is an integration test (test/integration/, same sub-folder). Checked over the source of
 * test/unit, so a unit test that starts writing a temp file or listening on a port fails here, not on a slow
 * or full machine later.
 *
 * An in-memory SQLite store counts as pure enough: it lives and dies inside the test's process, touches no
 * file, and is as fast as a hand-written fake, while being the real Store rather than a copy that can drift.
 */
import { expect, test } from "bun:test";
import { Glob } from "bun";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

const UNIT = resolve(import.meta.dir, "../unit");

/** What gives I/O away, and where such a test goes instead. */
const FORBIDDEN: [RegExp, string][] = [
  [/from "node:(fs|fs\/promises|child_process|net|dgram|http|https|os)"/, "imports a Node I/O module"],
  [/require\("node:(fs|child_process|net|os)"\)/, "requires a Node I/O module"],
  [/\bBun\.(serve|spawn|spawnSync|write|file|listen|connect|udpSocket)\(/, "uses a Bun I/O call"],
  [/from "bun:sqlite"/, "opens SQLite directly"],
  [/openStore\((?!"sqlite::memory:")/, "opens a store that is not SQLite in memory"],
  [/\b(PostgresStore|describePg|startLeoflow|ProCluster|testEngine)\b/, "needs Postgres, a server or a container engine"],
  [/from "(\.\.\/)+support\/(postgres|docker|leoflow-process|pro-cluster|stores)"/, "uses an integration-test support module"],
];

test("no test under test/unit does I/O", async () => {
  const offences: string[] = [];
  for await (const file of new Glob("**/*.ts").scan({ cwd: UNIT })) {
    const lines = readFileSync(resolve(UNIT, file), "utf8").split("\n");
    lines.forEach((line, i) => {
      for (const [pattern, what] of FORBIDDEN)
        if (pattern.test(line))
          offences.push(`test/unit/${file}:${i + 1} ${what}: ${line.trim()} — move the test to test/integration/${file}`);
    });
  }
  expect(offences).toEqual([]);
});
