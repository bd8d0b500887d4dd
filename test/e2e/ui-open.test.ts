/**
 * The web UI of a server started with `--auth none` (loopback only), in Chromium against the compiled binary: nobody
 * signs in, so the UI asks nothing. It showed its sign-in form, and every sign-in failed ("authentication is
 * disabled on this server"): the UI could not be used at all. Now the login page sees that the server signs no one
 * in (GET /api/v2/leoflow/me answers without a token) and goes on to the page asked for, with nothing to log out
 * of. Skipped without a browser, except under CI=true.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { findChromium, launchChromium } from "../support/chromium";
import { startLeoflow, waitFor, type Leoflow } from "./harness";

setDefaultTimeout(60_000);

const CHROMIUM = findChromium();

describe.skipIf(!CHROMIUM)("the web UI with --auth none (Chromium, compiled binary)", () => {
  let lf: Leoflow;
  let url: string;
  let browser: Browser;
  let page: Page;
  /** The API without a token, as the server allows with --auth none. */
  const api = (method: string, path: string, body?: unknown) => lf.api(method, path, body);

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "leoflow-ui-open-"));
    mkdirSync(join(dir, "dags"));
    writeFileSync(
      join(dir, "dags", "open.json"),
      JSON.stringify({ dag_id: "open_dag", tasks: [{ task_id: "hello", operator: "bash", bash_command: "echo hi" }] }),
    );
    [lf, browser] = await Promise.all([startLeoflow({ dir, authNone: true }), launchChromium(CHROMIUM)]);
    url = lf.url;
    await waitFor(
      async () => (await api("GET", "/api/v2/dags")).body.total_entries === 1,
      20_000,
      () => lf.output(),
    );
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await lf?.stop();
  });

  test("a DAG's page opens without a sign-in, says so, and acts (trigger) with no token", async () => {
    await page.goto(`${url}/dags/open_dag`);
    await page.waitForURL(/\/dags\/open_dag$/);
    await expect(page.getByTestId("who").textContent()).resolves.toBe("no sign-in (--auth=none) · admin");
    expect(await page.getByRole("button", { name: "Log out" }).count()).toBe(0);
    expect(await page.getByLabel("Username").count()).toBe(0);

    await page.getByRole("button", { name: "▶ Trigger" }).click();
    await page.getByRole("button", { name: "Trigger", exact: true }).click();
    await page.waitForURL(/\/dags\/open_dag\/runs\//);
    const runId = decodeURIComponent(new URL(page.url()).pathname.split("/")[4] ?? "");
    await page.locator(`.grid a.bar[data-run="${runId}"][data-state="success"]`).waitFor({ timeout: 30_000 });
    expect((await api("GET", `/api/v2/dags/open_dag/dagRuns/${encodeURIComponent(runId)}`)).body.state).toBe("success");
  });

  test("the login page itself goes on to the DAGs", async () => {
    await page.goto(`${url}/login`);
    await page.waitForURL(/\/dags$/);
    await page.getByRole("link", { name: "open_dag" }).first().waitFor();
  });
});
