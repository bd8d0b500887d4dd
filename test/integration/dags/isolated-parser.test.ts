/**
 * The parent side of out-of-process parsing, with a stand-in child (fake-parse-worker.ts): which file is
 * blamed when a batch process dies, that the rest still get parsed, and that the cache saves processes.
 * The real child and real hostile files are in test/security/dag-files.test.ts.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { selfCommand } from "../../../src/agent";
import { IsolatedDagParser } from "../../../src/dags";

const tmp = mkdtempSync(join(tmpdir(), "leoflow-isolated-"));
const FAKE = [process.execPath, join(import.meta.dir, "fake-parse-worker.ts")];
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const files = (...names: string[]) =>
  names.map((n) => {
    const path = join(tmp, n);
    writeFileSync(path, `{"name": "${n}"}`);
    return path;
  });

const parser = (opts: Partial<ConstructorParameters<typeof IsolatedDagParser>[0]> = {}) => {
  const p = new IsolatedDagParser({ command: FAKE, version: "test", limits: { timeoutMs: 5000, memoryBytes: 2 ** 30 }, ...opts });
  return p;
};

const summary = (results: { dags: { spec: { dag_id: string } }[]; errors: { message: string }[] }[]) =>
  results.map((r) => r.dags.map((d) => d.spec.dag_id).join() || r.errors.map((e) => e.message.split(" (")[0]).join());

describe("IsolatedDagParser: data files in batches", () => {
  test("a batch process that dies blames the file it was on; the files after it get a new process", async () => {
    const p = parser();
    const results = await p.parse(files("a.json", "b.json", "die1.json", "c.json", "d.json"));
    expect(summary(results)).toEqual(["a", "b", "exited with code 3 while importing", "c", "d"]);
    expect(p.stats.processes).toBe(2);
  });

  test("a file that hangs is timed out on its own; the clock restarts with each file reported", async () => {
    const p = parser({ limits: { timeoutMs: 400, memoryBytes: 2 ** 30 } });
    const results = await p.parse(files("e.json", "hang1.json", "f.json"));
    expect(summary(results)).toEqual(["e", "timed out after 0.4 s while importing", "f"]);
  });

  test("a report flooded by the file's own code is refused unread", async () => {
    const [r] = await parser().parse(files("flood1.json"));
    expect(r!.errors[0]!.message).toMatch(/^the parse process sent an unreadable report \(\d+ bytes, more than the 67108864/);
  });

  test("batches are cut at batchSize and results keep the order given", async () => {
    const p = parser({ batchSize: 2 });
    const names = ["g1.json", "g2.json", "g3.json", "g4.json", "g5.json"];
    expect(summary(await p.parse(files(...names)))).toEqual(["g1", "g2", "g3", "g4", "g5"]);
    expect(p.stats.processes).toBe(3);
  });
});

test("unchanged files come from the cache; a changed file or a failure to spawn does not", async () => {
  const p = parser();
  const [one, two] = files("h1.json", "h2.json");
  await p.parse([one!, two!]);
  await p.parse([one!, two!]);
  expect(p.stats).toMatchObject({ processes: 1, cacheHits: 2 });
  writeFileSync(two!, `{"name": "changed"}`);
  await p.parse([one!, two!]);
  expect(p.stats).toMatchObject({ processes: 2, cacheHits: 3 });

  const broken = parser({ command: [join(tmp, "no-such-binary")] });
  const [r] = await broken.parse([one!]);
  expect(r!.errors[0]!.message).toStartWith("could not start the process that parses DAG files");
  await broken.parse([one!]);
  expect(broken.stats.cacheHits).toBe(0);
});

test("the real child: each code file in its own process, data files together", async () => {
  const p = parser({ command: selfCommand() });
  const sdk = (id: string) =>
    `import { dag } from "leoflow/sdk";\ndag({ dag_id: "${id}" }, ({ bash }) => { bash({ task_id: "a", bash_command: "echo" }); });\n`;
  writeFileSync(join(tmp, "s1.ts"), sdk("s1"));
  writeFileSync(join(tmp, "s2.ts"), sdk("s2"));
  writeFileSync(join(tmp, "j1.json"), JSON.stringify({ dag_id: "j1", tasks: [{ task_id: "a", operator: "bash", bash_command: "echo" }] }));
  writeFileSync(join(tmp, "j2.yaml"), "dag_id: j2\ntasks: [{ task_id: a, operator: bash, bash_command: echo }]\n");
  const results = await p.parse(["s1.ts", "j1.json", "s2.ts", "j2.yaml"].map((n) => join(tmp, n)));
  expect(summary(results)).toEqual(["s1", "j1", "s2", "j2"]);
  expect(p.stats.processes).toBe(3);
});

test("a parse that runs long gives its slot to the next file: two hanging files do not stall the others", async () => {
  // Two slots; two files that hang at import take both first (code files are queued before data files). They
  // hang until the quick file's result has arrived (a flag file), not for a fixed time, so a slow machine cannot
  // turn the order around; had the quick file waited for a slot, both would hang to the parse timeout instead.
  const p = parser({ command: selfCommand(), concurrency: 2, longParseMs: 500, limits: { timeoutMs: 25_000, memoryBytes: 2 ** 30 } });
  const flag = join(tmp, "quick-arrived");
  const hanging = `import { existsSync } from "node:fs";\nwhile (!existsSync(${JSON.stringify(flag)})) await Bun.sleep(20);\nthrow new Error('late');\n`;
  writeFileSync(join(tmp, "hang.ts"), hanging);
  writeFileSync(join(tmp, "hang2.ts"), hanging);
  writeFileSync(
    join(tmp, "quick.json"),
    JSON.stringify({ dag_id: "quick", tasks: [{ task_id: "a", operator: "bash", bash_command: "echo" }] }),
  );
  const arrived: string[] = [];
  const results = await p.parse(
    ["hang.ts", "hang2.ts", "quick.json"].map((n) => join(tmp, n)),
    "",
    undefined,
    (r) => {
      const name = r.file.split("/").pop()!;
      arrived.push(name);
      if (name === "quick.json") writeFileSync(flag, "");
    },
  );
  // Each hanging parse gave its slot up after 0.5 s: the quick file's result came while both still hung.
  expect(arrived[0]).toBe("quick.json");
  expect(summary(results)).toEqual(["error while importing: late", "error while importing: late", "quick"]);
}, 60_000);
