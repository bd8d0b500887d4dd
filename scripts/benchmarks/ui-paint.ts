/**
 * How fast the web UI draws a big install, in headless Chromium against the compiled binary:
 *   - the DAG list with 1,000 DAGs: time to the first rows, to the latest-run squares of the rows in view,
 *     and frame times while scrolling to the bottom;
 *   - the grid of one DAG with 500 tasks × 50 runs (the page set to show 50 runs): time to the first coloured
 *     squares (the grid's User Timing mark `leoflow:grid-cells`, set when its canvas first paints a state
 *     colour), to all 50 runs loaded, and frame times while scrolling the tasks.
 * Times are from navigation start (performance.now() in the page), on a warm server. Prints a table; asserts nothing.
 *
 * @example bun scripts/benchmarks/ui-paint.ts [--binary dist/leoflow] [--dags 1000] [--tasks 500] [--runs 50]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium, type Page } from "playwright-core";
import { liteServeArgs, loginAsAdmin, servingUrl, spawnCapturing, waitFor } from "../../test/support/leoflow-process";

const ROOT = resolve(import.meta.dir, "../..");
const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? dflt) : dflt;
};
const BINARY = resolve(ROOT, arg("binary", "dist/leoflow"));
const DAGS = Number(arg("dags", "1000"));
const TASKS = Number(arg("tasks", "500"));
const RUNS = Number(arg("runs", "50"));
const PASSWORD = "bench-admin-password";

const dir = mkdtempSync(join(tmpdir(), "leoflow-ui-bench-"));
const dags = join(dir, "dags");
mkdirSync(dags);
for (let i = 0; i < DAGS; i++)
  writeFileSync(
    join(dags, `d${String(i).padStart(4, "0")}.json`),
    JSON.stringify({
      dag_id: `dag_${String(i).padStart(4, "0")}`,
      tags: [`team${i % 7}`],
      schedule: i % 3 ? "@daily" : null,
      is_paused_upon_creation: true,
      tasks: [
        { task_id: "a", operator: "bash", bash_command: "true" },
        { task_id: "b", operator: "bash", bash_command: "true", upstream: ["a"] },
      ],
    }),
  );
// The big DAG: a layered fan, 10 tasks wide, each depending on one task of the layer before.
writeFileSync(
  join(dags, "big.json"),
  JSON.stringify({
    dag_id: "big",
    is_paused_upon_creation: true,
    tasks: Array.from({ length: TASKS }, (_, i) => ({
      task_id: `task_${String(i).padStart(3, "0")}`,
      operator: "bash",
      bash_command: "true",
      upstream: i >= 10 ? [`task_${String(i - 10 + ((i * 7) % 10) - (i % 10)).padStart(3, "0")}`] : [],
    })),
  }),
);

const { proc, output } = spawnCapturing([BINARY, ...liteServeArgs(dir, dags), "--port", "0"], {
  cwd: dir,
  env: { ...process.env, LEOFLOW_ADMIN_PASSWORD: PASSWORD },
});
const browser = await chromium.launch({
  executablePath: Bun.spawnSync([join(ROOT, "scripts/chromium")])
    .stdout.toString()
    .trim(),
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
try {
  const url = await waitFor(
    () => servingUrl(output()),
    30_000,
    () => output(),
  );
  const api = await loginAsAdmin(url, PASSWORD);
  await waitFor(
    async () => (await api("GET", "/api/v2/dags?limit=1")).body.total_entries >= DAGS + 1,
    300_000,
    () => output().slice(-2000),
  );
  // Runs of a paused DAG keep their task instances as created; marking gives the grid real colours.
  for (let r = 0; r < RUNS; r++) {
    const run = await api("POST", "/api/v2/dags/big/dagRuns", { logical_date: null, dag_run_id: `r${String(r).padStart(2, "0")}` });
    if (run.status !== 200) throw new Error(`trigger failed: ${JSON.stringify(run.body)}`);
    if (r % 5 !== 4)
      await api("PATCH", `/api/v2/dags/big/dagRuns/r${String(r).padStart(2, "0")}`, { state: r % 7 === 3 ? "failed" : "success" });
  }
  const token = (
    await (
      await fetch(`${url}/auth/token`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username: "admin", password: PASSWORD }),
      })
    ).json()
  ).access_token;

  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  await context.addInitScript(
    ([t, runs]) => {
      sessionStorage.setItem("leoflow.token", t);
      sessionStorage.setItem("leoflow.runs", runs);
    },
    [token, String(RUNS)] as const,
  );
  const page = await context.newPage();
  await page.goto(`${url}/dags`); // warm-up: caches the assets as a returning user has them
  await page.locator(".dag-rows .row:not(.head)").first().waitFor();

  const results: [string, string][] = [];
  for (let i = 0; i < 3; i++) {
    await page.goto(`${url}/dags`);
    await page.locator(".dag-rows .row:not(.head)").first().waitFor();
    const rows = await page.evaluate(() => performance.now());
    await page
      .locator(".dag-rows .row:not(.head) .sq:not(.empty)")
      .first()
      .waitFor({ timeout: 30_000 })
      .catch(() => {});
    const squares = await page.evaluate(() => performance.now());
    results.push([`DAG list (${DAGS} DAGs) #${i + 1}: first rows / their run squares`, `${rows.toFixed(0)} ms / ${squares.toFixed(0)} ms`]);
  }
  results.push([`DAG list: scrolling ${DAGS} rows`, await scrollFrames(page, ".dag-rows")]);

  for (let i = 0; i < 3; i++) {
    await page.goto(`${url}/dags/big`);
    await page.waitForFunction(() => performance.getEntriesByName("leoflow:grid-cells").length > 0, null, { timeout: 60_000 });
    const first = await page.evaluate(() => performance.getEntriesByName("leoflow:grid-cells")[0]?.startTime ?? Number.NaN);
    // The grid's own mark, set in the frame that paints every run read (a locator's wait polls, at up to 500 ms a step).
    await page.waitForFunction(() => performance.getEntriesByName("leoflow:grid-loaded").length > 0, null, { timeout: 120_000 });
    const all = await page.evaluate(() => performance.getEntriesByName("leoflow:grid-loaded")[0]?.startTime ?? Number.NaN);
    results.push([
      `grid (${TASKS} tasks × ${RUNS} runs) #${i + 1}: first coloured squares / all runs loaded`,
      `${first.toFixed(0)} ms / ${all.toFixed(0)} ms`,
    ]);
  }
  results.push([`grid: scrolling ${TASKS} task rows`, await scrollFrames(page, ".grid")]);
  results.push(["baseline: frame time of a static page scrolling in this browser", await baselineFrames(page)]);
  const width = Math.max(...results.map(([k]) => k.length));
  for (const [k, v] of results) console.log(`${k.padEnd(width)}  ${v}`);
} finally {
  await browser.close();
  proc.kill();
  await proc.exited;
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Scrolls the element to its bottom one screen at a time and reports, per step, the time until the app has
 * drawn the new rows (the scroll handler and Preact's render, measured to the next task), and the frame times.
 */
async function scrollFrames(page: Page, selector: string): Promise<string> {
  const { work, frames } = await page.evaluate(async (sel) => {
    const el = document.querySelector(sel) as HTMLElement;
    const work: number[] = [];
    const frames: number[] = [];
    el.scrollTop = 0;
    await new Promise((r) => requestAnimationFrame(() => r(null)));
    while (el.scrollTop + el.clientHeight < el.scrollHeight - 2) {
      const t0 = performance.now();
      el.scrollTop += el.clientHeight * 0.9;
      el.dispatchEvent(new Event("scroll"));
      await new Promise((r) => setTimeout(r, 0));
      work.push(performance.now() - t0);
      await new Promise((r) => requestAnimationFrame(() => r(null)));
      frames.push(performance.now() - t0);
    }
    return { work, frames };
  }, selector);
  const stats = (xs: number[]) => {
    xs.sort((a, b) => a - b);
    const q = (p: number) => (xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? 0).toFixed(1);
    return `${q(0.5)} / ${q(0.95)}`;
  };
  return `render ${stats(work)} ms, frame ${stats(frames)} ms (p50 / p95, ${work.length} steps)`;
}

/** Frame times of a static page that only scrolls: what this browser and machine manage without the app. */
async function baselineFrames(page: Page): Promise<string> {
  await page.setContent('<div id="s" style="height:800px;overflow:auto"><div style="height:100000px"></div></div>');
  const frames = await page.evaluate(async () => {
    const el = document.getElementById("s") as HTMLElement;
    const out: number[] = [];
    for (let i = 0; i < 40; i++) {
      const t0 = performance.now();
      el.scrollTop += 700;
      await new Promise((r) => requestAnimationFrame(() => r(null)));
      out.push(performance.now() - t0);
    }
    return out.sort((a, b) => a - b);
  });
  return `${(frames[20] ?? 0).toFixed(1)} / ${(frames[38] ?? 0).toFixed(1)} ms (p50 / p95)`;
}
