/**
 * The web UI in a real browser: Debian's Chromium (scripts/chromium installs it) driven by playwright-core
 * against the compiled binary. A user logs in, triggers a DAG from its params form (and sees the API's
 * validation error under the field), watches the grid turn green without a reload, follows a running
 * task's log, clears a failed task and sees it run again, moves through the grid with the keyboard; a Viewer
 * gets no buttons that would fail; a user with two teams picks one and gets that team's role and DAGs.
 * The grid paints its squares on a canvas: the tests read the colour painted where a square is.
 * Under CI=true a missing browser is a failure, not a skip.
 * LEOFLOW_UI_SCREENSHOTS=1 also saves a screenshot of each page under docs/screenshots/.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { findChromium } from "../support/chromium";
import { waitForRun, type Leoflow, startServerAndBrowser } from "./harness";

setDefaultTimeout(90_000);

const ROOT = resolve(import.meta.dir, "../..");
const SHOTS = process.env.LEOFLOW_UI_SCREENSHOTS ? join(ROOT, "docs/screenshots") : null;

const CHROMIUM = findChromium();

function dagFiles(dir: string) {
  const dags = join(dir, "dags");
  mkdirSync(dags, { recursive: true });
  const write = (name: string, dag: unknown) => writeFileSync(join(dags, name), JSON.stringify(dag, null, 2));
  write("ui_params.json", {
    dag_id: "ui_params",
    tags: ["ui", "params"],
    params: {
      count: { type: "integer", minimum: 1, default: 2, description: "how many" },
      name: { type: "string", default: "world" },
      loud: { type: "boolean", default: false },
    },
    tasks: [
      { task_id: "a", operator: "bash", bash_command: "echo hello" },
      { task_id: "b", operator: "bash", bash_command: "echo done", upstream: ["a"] },
      { task_id: "done", operator: "empty", upstream: ["b"] },
    ],
  });
  write("ui_stream.json", {
    dag_id: "ui_stream",
    tags: ["ui"],
    tasks: [{ task_id: "talk", operator: "bash", bash_command: "for i in $(seq 1 40); do echo line-$i; sleep 0.15; done" }],
  });
  write("ui_flaky.json", {
    dag_id: "ui_flaky",
    tasks: [
      { task_id: "check", operator: "bash", bash_command: `test -f ${join(dir, "ok")} || { echo 'no ok file yet' >&2; exit 1; }` },
      { task_id: "after", operator: "bash", bash_command: "echo after", upstream: ["check"] },
    ],
  });
  writeFileSync(join(dags, "broken.json"), '{ "dag_id": "broken", "tasks": [] }');
}

/** Airflow's colours for the states the tests wait for (src/ui/app/states.ts). */
const STATE_COLORS = { success: "#008000", failed: "#ff0000" } as const;

/** The colour painted at a task instance's square in the grid, `#rrggbb`; null while its row or run is not in view. */
function cellColor(p: Page, runId: string, taskId: string): Promise<string | null> {
  return p.evaluate(
    ([run, task]) => {
      const bar = Array.from(document.querySelectorAll<HTMLElement>(".grid a.bar")).find((b) => b.dataset.run === run);
      const name = Array.from(document.querySelectorAll(".gnames .gname")).find((n) => n.textContent === task);
      const canvas = document.querySelector<HTMLCanvasElement>(".grid canvas");
      const ctx = canvas?.getContext("2d");
      if (!bar || !name || !canvas || !ctx) return null;
      const b = bar.getBoundingClientRect();
      const n = name.getBoundingClientRect();
      const c = canvas.getBoundingClientRect();
      const scale = canvas.width / c.width;
      const px = ctx.getImageData(
        Math.round((b.left + b.width / 2 - c.left) * scale),
        Math.round((n.top + n.height / 2 - c.top) * scale),
        1,
        1,
      ).data;
      return `#${[px[0], px[1], px[2]].map((v) => (v ?? 0).toString(16).padStart(2, "0")).join("")}`;
    },
    [runId, taskId] as const,
  );
}

/** Waits until the grid shows the task instance's square in the colour of `state`. */
async function waitForCell(p: Page, runId: string, taskId: string, state: keyof typeof STATE_COLORS, timeoutMs = 45_000) {
  let seen: string | null = null;
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    seen = await cellColor(p, runId, taskId);
    if (seen === STATE_COLORS[state]) return;
    await p.waitForTimeout(100);
  }
  throw new Error(`the grid's square for ${taskId} in ${runId} is ${seen ?? "not in view"}, not ${state} (${STATE_COLORS[state]})`);
}

describe.skipIf(!CHROMIUM)("web UI in Chromium (compiled binary)", () => {
  let lf: Leoflow;
  let browser: Browser;
  let page: Page;
  const shot = async (p: Page, name: string) => {
    if (SHOTS) await p.screenshot({ path: join(SHOTS, `${name}.png`) });
  };

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "leoflow-ui-"));
    dagFiles(dir);
    [lf, browser] = await startServerAndBrowser(dir, 3, CHROMIUM);
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  }, 40_000);
  afterAll(async () => {
    await browser?.close();
    await lf?.stop();
  });

  const login = async (p: Page, username: string, password: string) => {
    await p.goto(lf.url);
    await p.waitForURL(/\/login/);
    await p.getByLabel("Username").fill(username);
    await p.getByLabel("Password").fill(password);
    await shot(p, "login");
    await p.getByRole("button", { name: "Sign in" }).click();
    await p.waitForURL(/\/dags/);
  };

  test("the binary serves the app at / with cacheable assets, and the API stays the API", async () => {
    const index = await fetch(`${lf.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get("cache-control")).toBe("no-cache");
    const html = await index.text();
    const js = /\/assets\/app\.[0-9a-f]+\.js/.exec(html)?.[0];
    expect(js).toBeDefined();
    const asset = await fetch(`${lf.url}${js}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("cache-control")).toContain("immutable");
    expect(asset.headers.get("content-type")).toContain("javascript");
    expect(await (await fetch(`${lf.url}/dags/ui_params/runs/x`)).text()).toBe(html);
    const api = await fetch(`${lf.url}/api/v2/dags`);
    expect(api.status).toBe(401);
    expect((await api.json()).detail).toContain("/auth/token");
  });

  test("an admin logs in and sees the DAG list with its import error", async () => {
    await login(page, "admin", "e2e-admin-password");
    await expect(page.getByTestId("who").textContent()).resolves.toContain("admin");
    for (const id of ["ui_params", "ui_stream", "ui_flaky"]) await page.getByRole("link", { name: id, exact: true }).waitFor();
    await page.getByText("1 DAG import error").waitFor();
  });

  test("trigger from the params form: the API's error shows under its field, then the grid turns green live", async () => {
    await page.getByRole("link", { name: "ui_params", exact: true }).click();
    await page.waitForURL(/\/dags\/ui_params$/);
    await page.evaluate(() => ((window as any).__noReload = true));
    await page.getByRole("button", { name: "▶ Trigger" }).click();
    const count = page.getByLabel("count");
    await expect(count.inputValue()).resolves.toBe("2");
    await expect(page.getByLabel("name").inputValue()).resolves.toBe("world");
    await count.fill("0");
    await page.getByRole("button", { name: "Trigger", exact: true }).click();
    const error = page.locator("#param-count-error");
    await error.waitFor();
    expect(await error.textContent()).toContain("less than the minimum 1");
    await shot(page, "trigger-form");
    await count.fill("5");
    await page.getByRole("button", { name: "Trigger", exact: true }).click();
    await page.waitForURL(/\/dags\/ui_params\/runs\//);
    const runId = decodeURIComponent(new URL(page.url()).pathname.split("/")[4] ?? "");
    const run = (await lf.api("GET", `/api/v2/dags/ui_params/dagRuns/${encodeURIComponent(runId)}`)).body;
    expect(run.conf).toEqual({ count: 5, name: "world", loud: false });
    await waitForCell(page, runId, "b", "success");
    await page.locator(`.grid a.bar[data-run="${runId}"][data-state="success"]`).waitFor();
    expect(await page.evaluate(() => (window as any).__noReload)).toBe(true);
    await shot(page, "grid");
    await page.getByRole("tab", { name: "Graph" }).click();
    await page.locator('.graph a[data-task="b"][data-state="success"]').waitFor();
    await shot(page, "graph");
    // The empty task at the end succeeded without running: its page says why it has no log.
    await page.locator('.graph a[data-task="done"][data-state="success"]').click();
    await page.waitForURL(/\/tasks\/done/);
    await page.getByText("An empty task runs nothing (the scheduler marks it success), so it has no log.").waitFor();
    expect(await page.getByTestId("log").count()).toBe(0);
  });

  test("a running task's log streams into the open page", async () => {
    const trig = await lf.api("POST", "/api/v2/dags/ui_stream/dagRuns", { logical_date: null, dag_run_id: "stream-1" });
    expect(trig.status).toBe(200);
    await page.goto(`${lf.url}/dags/ui_stream/runs/stream-1/tasks/talk`);
    const log = page.getByTestId("log");
    await log.getByText("line-2", { exact: true }).waitFor({ timeout: 20_000 });
    // The task prints 40 lines over ~6 s: the page shows the first ones while later ones are still to come.
    const early = await log.getByText(/^line-\d+$/).count();
    expect(early).toBeLessThan(40);
    await page.getByText("following").waitFor();
    await shot(page, "task-log");
    await log.getByText("line-40", { exact: true }).waitFor({ timeout: 20_000 });
    expect(await log.getByText(/^line-\d+$/).count()).toBe(40);
    await waitForRun(lf, "ui_stream", "stream-1");
  });

  test("clear a failed task from its page (the confirmation lists it) and it runs again", async () => {
    await lf.api("POST", "/api/v2/dags/ui_flaky/dagRuns", { logical_date: null, dag_run_id: "flaky-1" });
    expect((await waitForRun(lf, "ui_flaky", "flaky-1")).state).toBe("failed");
    writeFileSync(join(lf.dir, "ok"), "");
    await page.goto(`${lf.url}/dags/ui_flaky/runs/flaky-1/tasks/check`);
    await waitForCell(page, "flaky-1", "check", "failed");
    await page.getByRole("button", { name: "Clear task" }).click();
    const affected = page.getByRole("list", { name: "What will change" });
    await affected.getByText("check", { exact: true }).waitFor();
    await affected.getByText("after", { exact: true }).waitFor();
    await shot(page, "clear-confirm");
    await page.getByRole("button", { name: "Clear 2" }).click();
    await waitForCell(page, "flaky-1", "after", "success");
    await waitForCell(page, "flaky-1", "check", "success");
    await page.getByRole("link", { name: /try 2: success/ }).waitFor({ timeout: 10_000 });
  });

  test("the grid from the keyboard: one focusable square, the arrows move it, Enter opens its task instance", async () => {
    await page.goto(`${lf.url}/dags/ui_flaky/runs/flaky-1`);
    const check = page.getByRole("link", { name: "check in flaky-1: success" });
    await check.focus();
    expect(await page.getByRole("tooltip").textContent()).toContain("State: success");
    await page.keyboard.press("ArrowDown");
    const after = page.getByRole("link", { name: "after in flaky-1: success" });
    await expect(after.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    await page.keyboard.press("Enter");
    await page.waitForURL(/\/dags\/ui_flaky\/runs\/flaky-1\/tasks\/after$/);
    await page.getByRole("heading", { name: /after/ }).waitFor();
  });

  test("an admin reads the audit log: the trigger from the form is there with who did it", async () => {
    await page.getByRole("link", { name: "Audit log" }).click();
    await page.getByLabel("Filter by DAG").fill("ui_params");
    const row = page.getByRole("row").filter({ hasText: "trigger_dag_run" }).first();
    await row.waitFor();
    expect(await row.textContent()).toContain("admin");
  });

  test("a Viewer sees the DAGs but no trigger, pause, clear or mark controls", async () => {
    const made = await lf.api("POST", "/api/v2/leoflow/users", { username: "vera", password: "viewer-password", role: "Viewer" });
    expect(made.status).toBeLessThan(300);
    const viewer = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await login(viewer, "vera", "viewer-password");
    await viewer.getByRole("link", { name: "ui_params", exact: true }).waitFor();
    expect(await viewer.getByRole("button", { name: /^Trigger/ }).count()).toBe(0);
    expect(await viewer.getByRole("switch", { name: "Active: ui_params" }).isDisabled()).toBe(true);
    expect(await viewer.getByRole("link", { name: "Variables" }).count()).toBe(0);
    await viewer.goto(`${lf.url}/dags/ui_flaky/runs/flaky-1/tasks/check`);
    await viewer.getByRole("heading", { name: /check/ }).waitFor();
    expect(await viewer.getByRole("button", { name: /Trigger|Clear|Mark/ }).count()).toBe(0);
    await viewer.close();
  });

  test("a user with roles in two teams picks a team: the role and the DAGs follow it, and a reload keeps it", async () => {
    expect((await lf.api("POST", "/api/v2/leoflow/teams", { name: "beta" })).status).toBeLessThan(300);
    const made = await lf.api("POST", "/api/v2/leoflow/users", {
      username: "tina",
      password: "two-teams-password",
      roles: [
        { team: "default", role: "Viewer" },
        { team: "beta", role: "Op" },
      ],
    });
    expect(made.status).toBeLessThan(300);
    const p = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await login(p, "tina", "two-teams-password");
    await p.getByRole("link", { name: "ui_params", exact: true }).waitFor();
    const picker = p.getByLabel("Team");
    await expect(picker.inputValue()).resolves.toBe("default");
    expect(await p.getByRole("link", { name: "Variables" }).count()).toBe(0);
    await picker.selectOption("beta");
    await p.getByText("0 DAGs").waitFor();
    await p.getByRole("link", { name: "Variables" }).waitFor();
    expect(await p.getByTestId("who").textContent()).toContain("op");
    await p.reload();
    await p.getByText("0 DAGs").waitFor();
    await expect(p.getByLabel("Team").inputValue()).resolves.toBe("beta");
    await p.close();
  });

  test.skipIf(!SHOTS)("screenshots of the other pages", async () => {
    await lf.api("POST", "/api/v2/variables", { key: "region", value: "eu-west-1", description: "where the data lives" });
    await lf.api("POST", "/api/v2/connections", {
      connection_id: "warehouse",
      conn_type: "postgres",
      host: "db.internal",
      login: "etl",
      password: "s3cret",
    });
    for (const [path, name] of [
      ["/dags", "dag-list"],
      ["/dags/ui_params/runs/", "run"],
      ["/variables", "variables"],
      ["/connections", "connections"],
      ["/pools", "pools"],
      ["/users", "users"],
      ["/audit", "audit"],
    ] as const) {
      let url = `${lf.url}${path}`;
      if (name === "run") {
        const runs = (await lf.api("GET", "/api/v2/dags/ui_params/dagRuns?limit=1")).body.dag_runs;
        url += encodeURIComponent(runs[0].dag_run_id);
      }
      await page.goto(url);
      await page.locator("main h1, .panel h2").first().waitFor();
      await page.waitForTimeout(500);
      await shot(page, name);
    }
    await page.emulateMedia({ colorScheme: "dark" });
    await page.goto(`${lf.url}/dags/ui_params`);
    await page.locator(".grid a.bar").first().waitFor();
    await shot(page, "grid-dark");
  });
});
