/**
 * A DAG that is one long chain, declared leaf first, in the web UI (Chromium via playwright-core, against the
 * compiled binary): 10,000 empty tasks. The page ordered its rows and laid out its graph by a recursive walk that
 * overflowed the browser's call stack (the page showed an error instead of its grid), and the scheduler's planner
 * did the same on the server (a run of it never planned). Now the run succeeds in its first plan, with its start
 * and end, and the page shows the grid from the root and the graph, which draws what its view shows (a graph of
 * more than 2,000 tasks) and the rest as it scrolls. Skipped without a browser, except under CI=true.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { findChromium, signIn } from "../support/chromium";
import { waitForRun, type Leoflow, startServerAndBrowser } from "./harness";

setDefaultTimeout(60_000);

const CHROMIUM = findChromium();
const N = 10_000;

describe.skipIf(!CHROMIUM)("a chain of 10,000 tasks declared leaf first (Chromium, compiled binary)", () => {
  let lf: Leoflow;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "leoflow-ui-deep-"));
    mkdirSync(join(dir, "dags"));
    const tasks = Array.from({ length: N }, (_, k) => N - 1 - k).map((i) => ({
      task_id: `t${i}`,
      operator: "empty",
      upstream: i ? [`t${i - 1}`] : [],
    }));
    writeFileSync(join(dir, "dags", "deep.json"), JSON.stringify({ dag_id: "deep", tasks }));
    [lf, browser] = await startServerAndBrowser(dir, 1, CHROMIUM);
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    page.on("pageerror", (e) => pageErrors.push(String(e)));
    await signIn(page, lf.url, "admin", "e2e-admin-password");
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await lf?.stop();
  });

  test("its run plans and succeeds, with a start and an end", async () => {
    expect((await lf.api("POST", "/api/v2/dags/deep/dagRuns", { dag_run_id: "r1", logical_date: null })).status).toBe(200);
    await waitForRun(lf, "deep", "r1");
    const run = (await lf.api("GET", "/api/v2/dags/deep/dagRuns/r1")).body;
    expect(run.state).toBe("success");
    expect(run.start_date).not.toBeNull();
    expect(Date.parse(run.start_date)).toBeLessThanOrEqual(Date.parse(run.end_date));
    expect(lf.output()).not.toContain("Maximum call stack size exceeded");
  });

  test("the grid lists it from the root, and the graph draws it: what its view shows, the rest as it scrolls", async () => {
    await page.goto(`${lf.url}/dags/deep`);
    await page.getByText(`${N} tasks`).waitFor({ timeout: 30_000 });
    await page.getByRole("link", { name: "t0 in r1: success" }).waitFor({ timeout: 30_000 });
    await page.goto(`${lf.url}/dags/deep?tab=graph`);
    const node = (id: string) => page.locator(`.graph a.node[data-task="${id}"]`);
    await node("t0").waitFor({ timeout: 30_000 });
    // 10,000 columns of one node each: the view holds a handful (and a margin), not the chain.
    const drawn = await page.locator(".graph a.node").count();
    expect(drawn).toBeGreaterThan(2);
    expect(drawn).toBeLessThan(40);
    expect(await node(`t${N - 1}`).count()).toBe(0);
    // Scrolled to the end, the last task is drawn, in its run's state; the first is not any more.
    await page.locator(".graph").evaluate((el) => el.scrollTo({ left: el.scrollWidth }));
    await page.locator(`.graph a.node[data-task="t${N - 1}"][data-state="success"]`).waitFor({ timeout: 10_000 });
    expect(await node("t0").count()).toBe(0);
    // A task chosen by its URL is scrolled to and drawn.
    await page.goto(`${lf.url}/dags/deep/runs/r1/tasks/t5000?tab=graph`);
    await page.locator('.graph a.node.sel[data-task="t5000"]').waitFor({ timeout: 30_000 });
    expect(pageErrors).toEqual([]);
  });
});
