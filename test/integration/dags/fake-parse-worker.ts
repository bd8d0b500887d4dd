/**
 * Stands in for `leoflow __parse-dags` in isolated-parser tests, so the parent's bookkeeping is tested with
 * deterministic children: a file named die*.json ends the process with code 3, hang*.json never returns,
 * flood*.json writes 65 MiB into the report, any other file is reported as one small DAG named after it.
 */
import { appendFileSync } from "node:fs";
import { basename } from "node:path";

const [, flag, report, ...files] = process.argv.slice(2); // after "__parse-dags"
if (flag !== "--report" || !report) process.exit(2);
for (const file of files) {
  const name = basename(file, ".json");
  if (name.startsWith("die")) process.exit(3);
  if (name.startsWith("flood")) for (let i = 0; i < 65; i++) appendFileSync(report, "x".repeat(2 ** 20));
  if (name.startsWith("hang")) await new Promise(() => setInterval(() => {}, 1000));
  const spec = { dag_id: name, tasks: [{ task_id: "a", operator: "bash", bash_command: "echo" }] };
  appendFileSync(report, JSON.stringify({ file, dags: [spec], errors: [] }) + "\n");
}
process.exit(0);
