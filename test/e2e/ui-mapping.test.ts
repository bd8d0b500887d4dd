/**
 * A mapped task in the web UI (Chromium via playwright-core, against the compiled binary): the grid marks the
 * task as mapped, and its cell (one per run) names how many instances it has and their states, in the
 * tooltip and in the keyboard cursor's label; the task panel says the same. The page reads the run as one entry
 * per task (taskInstanceSummaries): the server folds the instances. Skipped without a browser,
 * except under CI=true.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { findChromium, signIn } from "../support/chromium";
import { waitForRun, type Leoflow, startServerAndBrowser } from "./harness";

setDefaultTimeout(40_000);

const CHROMIUM = findChromium();

describe.skipIf(!CHROMIUM)("a mapped task in the web UI", () => {
  let lf: Leoflow;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "leoflow-ui-map-"));
    mkdirSync(join(dir, "dags"));
    writeFileSync(
      join(dir, "dags", "ui_map.json"),
      JSON.stringify({
        dag_id: "ui_map",
        tasks: [
          { task_id: "each", operator: "bash", expand: { x: [1, 2, 3] }, bash_command: "test {{ map.x }} != 2" },
          { task_id: "after", operator: "bash", bash_command: "true", upstream: ["each"], trigger_rule: "all_done" },
        ],
      }),
    );
    [lf, browser] = await startServerAndBrowser(dir, 1, CHROMIUM);
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await signIn(page, lf.url, "admin", "e2e-admin-password");
  }, 40_000);
  afterAll(async () => {
    await browser?.close();
    await lf?.stop();
  });

  test("the cell of a mapped task counts its instances and their states; the names mark it mapped", async () => {
    await lf.api("POST", "/api/v2/dags/ui_map/dagRuns", { logical_date: null, dag_run_id: "map-1" });
    await waitForRun(lf, "ui_map", "map-1");
    // What the page reads of the run: one entry per task, the mapped task's three instances folded by the server.
    const read = page.waitForResponse((r) => r.url().includes("/dagRuns/map-1/taskInstanceSummaries"));
    await page.goto(`${lf.url}/dags/ui_map/runs/map-1`);
    const entries = ((await (await read).json()) as { task_instances: { task_id: string; mapped_count?: number }[] }).task_instances;
    expect(entries.map((e) => [e.task_id, e.mapped_count])).toEqual([
      ["after", undefined],
      ["each", 3],
    ]);
    await page.getByText("each [ ]").waitFor();
    const cell = page.getByRole("link", { name: "each in map-1: failed, 3 mapped instances (failed×1, success×2)" });
    await cell.focus();
    expect(await page.getByRole("tooltip").textContent()).toContain("Mapped: 3 instances (failed×1, success×2)");
  });

  test("a mapped task's cell opens its instances; one instance opens its own panel and is marked alone", async () => {
    await page.goto(`${lf.url}/dags/ui_map/runs/map-1`);
    // The grid is a canvas: its keyboard cursor (a link over the focused square) opens the cell with Enter.
    await page.getByRole("link", { name: /^each in map-1: failed/ }).focus();
    await page.keyboard.press("Enter");
    const list = page.getByRole("table", { name: "Instances of each" });
    await list.waitFor();
    await page.getByText("3 instances; 1–3 shown.").waitFor();
    const rows = list.locator("tbody tr");
    expect(await rows.count()).toBe(3);
    expect(await rows.nth(1).locator(".badge").getAttribute("data-state")).toBe("failed");

    // Instance 1 (x = 2) failed: its own panel, its own log, and a mark that changes it and no other instance.
    await list.getByRole("link", { name: "1", exact: true }).click();
    await page.waitForURL(/\/dags\/ui_map\/runs\/map-1\/tasks\/each\/mapped\/1$/);
    const heading = page.getByRole("heading", { name: /^each \[1\]/ });
    await heading.locator('.badge[data-state="failed"]').waitFor();
    await page.getByText("Log of try 1").waitFor();
    await page.getByRole("button", { name: "Mark as…" }).click();
    const affected = page.getByRole("list", { name: "What will change" });
    await affected.getByText("each [1]").waitFor();
    expect(await affected.locator("li").count()).toBe(1);
    await page.getByRole("button", { name: "Mark success 1" }).click();
    await heading.locator('.badge[data-state="success"]').waitFor();
    await page.getByRole("link", { name: "each in map-1: success, 3 mapped instances (success×3)" }).waitFor();
  });
});
