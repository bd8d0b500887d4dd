/**
 * A tester's second round of findings in the web UI, in Chromium against the compiled binary (Airflow 3's UI as the
 * reference):
 * - the grid ordered runs by when they were created: an October backfill created today took the newest columns
 *   and pushed the latest run out of the grid; now it orders them by run_after, as Airflow 3, live updates too;
 * - a task's log kept its last 20,000 lines and said "20000 lines": now it says how many were read and which are
 *   not shown, and downloads the whole log as text;
 * - triggering a paused DAG said nothing, and the run then sat queued: the Trigger dialog says the run will wait and
 *   offers to unpause; the queued run's page and grid tooltip say why it waits;
 * - the pause switch flipped its name with its state ("Pause flaky", pressed): now a switch with a fixed name, its
 *   state in aria-checked, and a tooltip saying what a click does;
 * - the pool dialog kept the server's "already exists" after the name was changed: now it goes with the edit.
 * Skipped without a browser, except under CI=true.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { findChromium, signIn } from "../support/chromium";
import { ADMIN_PASSWORD, waitFor, waitForRun, type Leoflow, startServerAndBrowser } from "./harness";

setDefaultTimeout(120_000);

const CHROMIUM = findChromium();
const SHOTS = process.env.LEOFLOW_UI_TEST_SHOTS ?? null;
const LOG_LINES = 25_000;

describe.skipIf(!CHROMIUM)("the web UI after a tester's second round (Chromium, compiled binary)", () => {
  let lf: Leoflow;
  let browser: Browser;
  const shot = async (p: Page, name: string) => {
    if (SHOTS) await p.screenshot({ path: join(SHOTS, `${name}.png`) });
  };
  const newPage = async () => {
    const p = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: "UTC" })).newPage();
    await signIn(p, lf.url, "admin", ADMIN_PASSWORD);
    return p;
  };
  const post = async (path: string, body: unknown) => {
    const r = await lf.api("POST", path, body);
    expect(r.status, JSON.stringify(r.body)).toBeLessThan(300);
    return r.body;
  };
  /** The grid's run bars, left to right, by run id. */
  const gridRuns = (p: Page) =>
    p
      .locator(".gbars a.bar")
      .evaluateAll((bars) =>
        bars.map((b) => [Number(b.getAttribute("data-col")), b.getAttribute("data-run")] as const).sort((a, b) => a[0] - b[0]),
      )
      .then((bars) => bars.map(([, id]) => id));

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "leoflow-ui-findings-2-"));
    const dags = join(dir, "dags");
    mkdirSync(dags);
    const write = (name: string, dag: unknown) => writeFileSync(join(dags, name), JSON.stringify(dag));
    for (const id of ["ordered", "sleepy", "flaky"]) write(`${id}.json`, { dag_id: id, tasks: [{ task_id: "only", operator: "empty" }] });
    write("chatty.json", {
      dag_id: "chatty",
      tasks: [{ task_id: "talk", operator: "bash", bash_command: `seq -f 'line %g' 1 ${LOG_LINES}` }],
    });
    [lf, browser] = await startServerAndBrowser(dir, 4, CHROMIUM);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await lf?.stop();
  });

  test("the grid orders runs by run_after: an October backfill created after today's run stays left of it, live too", async () => {
    const day = (d: number) => `2025-10-${String(d).padStart(2, "0")}`;
    await post("/api/v2/dags/ordered/dagRuns", { dag_run_id: "today", logical_date: null, run_after: new Date().toISOString() });
    // Then a backfill of October, created after it (newer ids), the last days first.
    for (let d = 30; d >= 1; d--)
      await post("/api/v2/dags/ordered/dagRuns", {
        dag_run_id: `backfill__${day(d)}`,
        logical_date: `${day(d)}T00:00:00Z`,
        run_after: `${day(d)}T23:00:00Z`,
      });
    const p = await newPage();
    await p.goto(`${lf.url}/dags/ordered`);
    // 25 runs shown: the latest 25 by run_after, oldest left, today's at the right and in view.
    const october = Array.from({ length: 24 }, (_, i) => `backfill__${day(i + 7)}`);
    let shown: (string | null)[] = [];
    await waitFor(
      async () => (shown = await gridRuns(p)).length === 25,
      15_000,
      () => `grid runs: ${shown}`,
    );
    expect(await gridRuns(p)).toEqual([...october, "today"]);
    const today = p.locator('.gbars a.bar[data-run="today"]');
    const grid = await p.locator("section.grid").boundingBox();
    const bar = await today.boundingBox();
    expect(bar && grid && bar.x + bar.width <= grid.x + grid.width).toBe(true);
    await shot(p, "grid-by-run-after");

    // Live: a late October run goes among October's, a new run to the right.
    await post("/api/v2/dags/ordered/dagRuns", { dag_run_id: "late", logical_date: null, run_after: `${day(15)}T23:30:00Z` });
    await post("/api/v2/dags/ordered/dagRuns", { dag_run_id: "newest", logical_date: null, run_after: new Date().toISOString() });
    const expected = [...october.slice(2, 9), "late", ...october.slice(9), "today", "newest"];
    await waitFor(
      async () => JSON.stringify((shown = await gridRuns(p))) === JSON.stringify(expected),
      15_000,
      () => `grid runs: ${shown}`,
    );
    await p.close();
  });

  test("a log longer than the page keeps says which lines are not shown, and downloads whole", async () => {
    await post("/api/v2/dags/chatty/dagRuns", { dag_run_id: "c1", logical_date: null });
    await waitForRun(lf, "chatty", "c1");
    const p = await newPage();
    await p.goto(`${lf.url}/dags/chatty/runs/c1/tasks/talk`);
    const cut = p.getByText(/Showing the last 20,000 of [\d,]+ lines/);
    await cut.waitFor({ timeout: 30_000 });
    const total = Number(/of ([\d,]+) lines/.exec((await cut.textContent()) ?? "")?.[1]?.replaceAll(",", ""));
    expect(total).toBeGreaterThanOrEqual(LOG_LINES);
    expect(await cut.textContent()).toContain(`the first ${(total - 20_000).toLocaleString("en-US")} are not shown`);
    await p.getByText(`Log of try 1 · ${total.toLocaleString("en-US")} lines`).waitFor();
    await shot(p, "log-cut");

    const [download] = await Promise.all([p.waitForEvent("download"), p.getByRole("button", { name: "Download whole log" }).click()]);
    const text = readFileSync((await download.path()) as string, "utf8");
    const lines = text.split("\n").filter(Boolean);
    expect(lines.length).toBe(total);
    expect(lines.some((l) => l.endsWith("line 1"))).toBe(true);
    expect(lines.some((l) => l.endsWith(`line ${LOG_LINES}`))).toBe(true);
    expect(download.suggestedFilename()).toBe("chatty__c1__talk__try-1.log");
    await p.close();
  });

  test("triggering a paused DAG says the run will wait, its queued run says why, and the dialog can unpause it", async () => {
    expect((await lf.api("PATCH", "/api/v2/dags/sleepy?update_mask=is_paused", { is_paused: true })).status).toBe(200);
    const p = await newPage();
    await p.goto(`${lf.url}/dags/sleepy`);
    await p.getByRole("button", { name: "▶ Trigger" }).click();
    const dialog = p.getByRole("dialog", { name: "Trigger sleepy" });
    await dialog.getByText("waits until the DAG is unpaused").waitFor();
    const unpause = dialog.getByRole("checkbox", { name: "Unpause sleepy on trigger" });
    expect(await unpause.isChecked()).toBe(true);
    await shot(p, "trigger-paused");
    await unpause.uncheck();
    await dialog.getByText("Advanced options", { exact: true }).click();
    await dialog.getByLabel("Run id (optional)").fill("waiting");
    await dialog.getByRole("button", { name: "Trigger", exact: true }).click();
    await p.waitForURL(/\/dags\/sleepy\/runs\/waiting/);
    const why = "Queued because the DAG is paused: the run starts once the DAG is unpaused.";
    await p.locator("aside").getByText(why).waitFor();
    expect((await lf.api("GET", "/api/v2/dags/sleepy")).body.is_paused).toBe(true);
    expect((await lf.api("GET", "/api/v2/dags/sleepy/dagRuns/waiting")).body.state).toBe("queued");
    // The grid's tooltip of the run says it too.
    await p.locator('.gbars a.bar[data-run="waiting"]').hover();
    await p.getByRole("tooltip").getByText(why).waitFor();
    await shot(p, "queued-paused");

    // Again, leaving "unpause" ticked: the DAG is unpaused (the switch follows) and the runs start.
    await p.getByRole("button", { name: "▶ Trigger" }).click();
    await dialog.getByRole("checkbox", { name: "Unpause sleepy on trigger" }).waitFor();
    await dialog.getByRole("button", { name: "Trigger", exact: true }).click();
    await p.waitForURL((u) => /\/dags\/sleepy\/runs\//.test(u.pathname) && !u.pathname.includes("waiting"));
    expect((await lf.api("GET", "/api/v2/dags/sleepy")).body.is_paused).toBe(false);
    expect(await p.getByRole("switch", { name: "Active" }).getAttribute("aria-checked")).toBe("true");
    expect((await waitForRun(lf, "sleepy", "waiting")).state).toBe("success");
    await p.close();
  });

  test("the pause switch keeps its name, says its state as a switch, and its tooltip what a click does", async () => {
    const p = await newPage();
    const sw = p.getByRole("switch", { name: "Active: flaky" });
    await sw.waitFor();
    expect(await sw.getAttribute("aria-checked")).toBe("true");
    expect(await sw.getAttribute("aria-pressed")).toBeNull();
    expect(await sw.getAttribute("title")).toMatch(/^Active: click to pause flaky/);
    await sw.click();
    await waitFor(
      async () => (await sw.getAttribute("aria-checked")) === "false",
      5_000,
      () => "the switch did not turn off",
    );
    expect(await sw.getAttribute("title")).toBe("Paused: click to unpause flaky");
    await waitFor(
      async () => (await lf.api("GET", "/api/v2/dags/flaky")).body.is_paused === true,
      5_000,
      () => "flaky was not paused",
    );
    // On the DAG's page: the same switch, named once.
    await p.goto(`${lf.url}/dags/flaky`);
    const own = p.getByRole("switch", { name: "Active" });
    await own.waitFor();
    expect(await own.getAttribute("aria-checked")).toBe("false");
    await own.click();
    await waitFor(
      async () => (await lf.api("GET", "/api/v2/dags/flaky")).body.is_paused === false,
      5_000,
      () => "flaky was not unpaused",
    );
    expect(await own.getAttribute("aria-checked")).toBe("true");
    expect(await own.getAttribute("title")).toMatch(/^Active: click to pause flaky/);
    await p.close();
  });

  test("the pool dialog's server error goes when its field is edited, and comes back only from the server", async () => {
    await post("/api/v2/pools", { name: "gpu", slots: 2 });
    const p = await newPage();
    await p.goto(`${lf.url}/pools`);
    await p.getByRole("button", { name: "Add pool" }).click();
    const dialog = p.getByRole("dialog", { name: "Add pool" });
    const name = dialog.getByLabel("Name");
    await name.fill("gpu");
    await dialog.getByRole("button", { name: "Save" }).click();
    const taken = dialog.getByText(/already exists/);
    await taken.waitFor();
    await shot(p, "pool-name-taken");
    await name.fill("gpu2");
    expect(await taken.count()).toBe(0);
    expect(await name.getAttribute("aria-invalid")).toBeNull();
    // Sent again with the taken name: the server's answer again, under the name.
    await name.fill("gpu");
    await dialog.getByRole("button", { name: "Save" }).click();
    await taken.waitFor();
    expect(await name.getAttribute("aria-invalid")).toBe("true");
    await name.fill("gpu2");
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.waitFor({ state: "hidden" });
    await p.getByRole("cell", { name: "gpu2", exact: true }).waitFor();
    await p.close();
  });
});
