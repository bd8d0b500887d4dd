/**
 * A tester's findings in the web UI, in Chromium against the compiled binary (Airflow 3's UI as the reference):
 * - a Viewer or User who opened /variables, /connections or /users by URL saw the server's Forbidden message and a
 *   primary "Add …" button the server would refuse, and /audit said "loading…" forever beside its error; now they
 *   see which role the page needs, and no write buttons;
 * - the Graph tab of a wide DAG (300 tasks in a 4-ary tree) opened on an empty panel: its nodes were centred in a
 *   ~10,000 px tall drawing and the view started at its top-left; now it opens on its roots, and on a task chosen
 *   by its URL;
 * - the Trigger dialog had no way to pass ad-hoc conf: now it has a Configuration JSON box (filled from the params
 *   form, invalid JSON is an error at the field and nothing is sent) and a logical date, and the API's errors show
 *   under the field they concern;
 * - a search that matched nothing showed an empty table; a long DAG id was cut with no tooltip and hid its tags.
 * Skipped without a browser, except under CI=true.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Locator, Page } from "playwright-core";
import { findChromium, signIn } from "../support/chromium";
import { ADMIN_PASSWORD, waitFor, waitForRun, type Leoflow, startServerAndBrowser } from "./harness";

setDefaultTimeout(90_000);

const CHROMIUM = findChromium();
const SHOTS = process.env.LEOFLOW_UI_TEST_SHOTS ?? null;
const WIDE = 300;
const LONG_ID = `nightly_rollup_${"of_the_warehouse_partitions_".repeat(5)}end`;

describe.skipIf(!CHROMIUM)("the web UI after a tester's findings (Chromium, compiled binary)", () => {
  let lf: Leoflow;
  let browser: Browser;
  const shot = async (p: Page, name: string) => {
    if (SHOTS) await p.screenshot({ path: join(SHOTS, `${name}.png`) });
  };
  const newPage = async (username: string, password: string) => {
    const p = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: "UTC" })).newPage();
    await signIn(p, lf.url, username, password);
    return p;
  };
  /** Whether `el` is drawn inside the visible part of `box` (its scroll box), wholly. */
  const inside = (el: Locator, box: Locator) =>
    Promise.all([el.boundingBox(), box.boundingBox()]).then(
      ([e, b]) => !!e && !!b && e.x >= b.x && e.y >= b.y && e.x + e.width <= b.x + b.width && e.y + e.height <= b.y + b.height,
    );

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "leoflow-ui-findings-"));
    const dags = join(dir, "dags");
    mkdirSync(dags);
    const write = (name: string, dag: unknown) => writeFileSync(join(dags, name), JSON.stringify(dag));
    write("wide.json", {
      dag_id: "wide",
      tasks: Array.from({ length: WIDE }, (_, i) => ({
        task_id: `task_${i}`,
        operator: "empty",
        upstream: i ? [`task_${Math.floor((i - 1) / 4)}`] : [],
      })),
    });
    write("plain.json", { dag_id: "plain", tasks: [{ task_id: "only", operator: "empty" }] });
    write("with_params.json", {
      dag_id: "with_params",
      params: { count: { type: "integer", minimum: 1, default: 2 }, name: { type: "string", default: "world" } },
      tasks: [{ task_id: "only", operator: "empty" }],
    });
    write("long.json", { dag_id: LONG_ID, tags: ["finance", "nightly", "warehouse"], tasks: [{ task_id: "only", operator: "empty" }] });
    [lf, browser] = await startServerAndBrowser(dir, 4, CHROMIUM);
    for (const [username, role] of [
      ["vera", "Viewer"],
      ["ursula", "User"],
      ["otto", "Op"],
    ])
      expect((await lf.api("POST", "/api/v2/leoflow/users", { username, password: `${username}-password`, role })).status).toBeLessThan(
        300,
      );
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await lf?.stop();
  });

  test("a Viewer or User opening an admin page by URL sees the role it needs, and no button the server would refuse", async () => {
    const pages = [
      ["/variables", "Variables", /Op or Admin role/],
      ["/connections", "Connections", /Op or Admin role/],
      ["/users", "Users", /Admin role/],
      ["/audit", "Audit log", /Admin role/],
    ] as const;
    for (const username of ["vera", "ursula"]) {
      const p = await newPage(username, `${username}-password`);
      for (const [path, title, need] of pages) {
        await p.goto(`${lf.url}${path}`);
        await p.getByRole("heading", { name: title }).waitFor();
        const main = p.locator("main");
        await main.getByText(need).waitFor({ timeout: 10_000 });
        expect(await main.getByRole("button").count()).toBe(0);
        expect(await main.getByRole("textbox").count()).toBe(0);
        expect(await main.getByRole("searchbox").count()).toBe(0);
        expect(await main.textContent()).not.toMatch(/Forbidden|loading…/);
        if (username === "vera" && path === "/variables") await shot(p, "viewer-variables");
      }
      await p.close();
    }
    // An Op has the variables and their Add button, but not the users.
    const op = await newPage("otto", "otto-password");
    await op.goto(`${lf.url}/variables`);
    await op.getByRole("button", { name: "Add variable" }).waitFor();
    await op.goto(`${lf.url}/users`);
    await op
      .locator("main")
      .getByText(/Admin role/)
      .waitFor({ timeout: 10_000 });
    expect(await op.locator("main").getByRole("button").count()).toBe(0);
    await op.close();
  });

  test("the graph of a 300-task 4-ary tree opens on its root, and on a task chosen by its URL", async () => {
    expect((await lf.api("POST", "/api/v2/dags/wide/dagRuns", { dag_run_id: "w1", logical_date: null })).status).toBe(200);
    await waitForRun(lf, "wide", "w1");
    const p = await newPage("admin", ADMIN_PASSWORD);
    await p.goto(`${lf.url}/dags/wide?tab=graph`);
    const box = p.locator(".graph");
    const root = p.locator('.graph a.node[data-task="task_0"][data-state="success"]');
    await root.waitFor();
    await shot(p, "wide-graph");
    expect(await inside(root, box)).toBe(true);
    // Its first children are in view too: the panel shows the graph, not blank space.
    for (const id of ["task_1", "task_2", "task_5"]) expect(await inside(p.locator(`.graph a.node[data-task="${id}"]`), box)).toBe(true);

    // A task at the far end of the widest column, chosen by its URL: the view scrolls to it.
    await p.goto(`${lf.url}/dags/wide/runs/w1/tasks/task_299?tab=graph`);
    const chosen = p.locator('.graph a.node.sel[data-task="task_299"][data-state="success"]');
    await chosen.waitFor();
    await waitFor(
      () => inside(chosen, box),
      5_000,
      () => "task_299 was not scrolled into view",
    );
    await shot(p, "wide-graph-chosen");
    await p.close();
  });

  test("trigger with ad-hoc conf as JSON and a logical date; invalid JSON is an error at the field and nothing is sent", async () => {
    const p = await newPage("admin", ADMIN_PASSWORD);
    await p.goto(`${lf.url}/dags/plain`);
    await p.getByRole("button", { name: "▶ Trigger" }).click();
    await p.getByText("Advanced options", { exact: true }).click();
    const conf = p.getByLabel("Configuration JSON");
    expect(JSON.parse(await conf.inputValue())).toEqual({});
    await conf.fill('{"region": "eu"');
    await p.getByRole("button", { name: "Trigger", exact: true }).click();
    const confError = p.locator("#conf-error");
    await confError.waitFor();
    expect(await confError.textContent()).toContain("not valid JSON");
    await conf.fill('["not", "an", "object"]');
    await p.getByRole("button", { name: "Trigger", exact: true }).click();
    await p.locator("#conf-error", { hasText: "a JSON object" }).waitFor();
    expect((await lf.api("GET", "/api/v2/dags/plain/dagRuns")).body.total_entries).toBe(0);

    await conf.fill('{"region": "eu", "days": [1, 2]}');
    await p.getByLabel("Logical date (optional)").fill("2026-03-04T05:06:07");
    await p.getByLabel("Run id (optional)").fill("adhoc-1");
    await p.getByLabel("Note (optional)").fill("by hand");
    await shot(p, "trigger-conf");
    await p.getByRole("button", { name: "Trigger", exact: true }).click();
    await p.waitForURL(/\/dags\/plain\/runs\/adhoc-1/);
    const run = (await lf.api("GET", "/api/v2/dags/plain/dagRuns/adhoc-1")).body;
    expect(run.conf).toEqual({ region: "eu", days: [1, 2] });
    expect(Date.parse(run.logical_date)).toBe(Date.parse("2026-03-04T05:06:07Z"));
    expect(run.note).toBe("by hand");

    // The same run id again: the server's 409 shows under the run id, not as a stray message.
    await p.getByRole("button", { name: "▶ Trigger" }).click();
    await p.getByText("Advanced options", { exact: true }).click();
    await p.getByLabel("Run id (optional)").fill("adhoc-1");
    await p.getByRole("button", { name: "Trigger", exact: true }).click();
    const runIdError = p.locator("#run_id-error");
    await runIdError.waitFor();
    expect(await runIdError.textContent()).toContain("already exists");
    await p.close();
  });

  test("the conf JSON follows the params form, an edit of it fills the form, and the API's errors land under their field", async () => {
    const p = await newPage("admin", ADMIN_PASSWORD);
    await p.goto(`${lf.url}/dags/with_params`);
    await p.getByRole("button", { name: "▶ Trigger" }).click();
    await p.getByText("Advanced options", { exact: true }).click();
    const conf = p.getByLabel("Configuration JSON");
    expect(JSON.parse(await conf.inputValue())).toEqual({ count: 2, name: "world" });
    await p.getByLabel("count").fill("7");
    expect(JSON.parse(await conf.inputValue())).toEqual({ count: 7, name: "world" });
    await conf.fill('{"count": 0, "name": "world", "extra": true}');
    await expect(p.getByLabel("count").inputValue()).resolves.toBe("0");
    await p.getByRole("button", { name: "Trigger", exact: true }).click();
    const countError = p.locator("#param-count-error");
    await countError.waitFor();
    expect(await countError.textContent()).toContain("less than the minimum 1");
    await shot(p, "trigger-params-conf");
    await p.getByLabel("count").fill("3");
    expect(JSON.parse(await conf.inputValue())).toEqual({ count: 3, name: "world", extra: true });
    await p.getByRole("button", { name: "Trigger", exact: true }).click();
    await p.waitForURL(/\/dags\/with_params\/runs\//);
    const runId = decodeURIComponent(new URL(p.url()).pathname.split("/")[4] ?? "");
    expect((await lf.api("GET", `/api/v2/dags/with_params/dagRuns/${encodeURIComponent(runId)}`)).body.conf).toEqual({
      count: 3,
      name: "world",
      extra: true,
    });
    await p.close();
  });

  test("the DAG list: a search that matches nothing says so and clears; a long id has its full name and its tags", async () => {
    const p = await newPage("admin", ADMIN_PASSWORD);
    const row = p.locator(`.dag-rows .row[data-dag="${LONG_ID}"]`);
    await row.waitFor();
    const link = row.getByRole("link", { name: LONG_ID });
    expect(await link.getAttribute("title")).toBe(LONG_ID);
    const cell = row.locator(".dag-id");
    for (const tag of ["finance", "nightly", "warehouse"])
      expect(await inside(row.getByRole("button", { name: tag, exact: true }), cell)).toBe(true);
    await shot(p, "dag-list-long-id");

    await p.getByLabel("Search DAGs by id").fill("no_such_dag_zz");
    await p.getByText("No DAGs match “no_such_dag_zz”").waitFor();
    await shot(p, "dag-list-no-match");
    await p.getByRole("button", { name: "Clear filters" }).click();
    await p.getByRole("link", { name: "plain", exact: true }).waitFor();
    expect(await p.getByLabel("Search DAGs by id").inputValue()).toBe("");
    expect(await p.getByText(/No DAGs match/).count()).toBe(0);
    await p.close();
  });
});
