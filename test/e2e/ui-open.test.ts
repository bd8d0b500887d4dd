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

  test("a page of another site cannot trigger a run through the user's browser (form post, no-cors fetch)", async () => {
    // Both need no CORS preflight; the body parses as a trigger's JSON. Before the guard, both created their run.
    const target = `${url}/api/v2/dags/open_dag/dagRuns`;
    const formField = `<input type="hidden" name='{"logical_date":null,"dag_run_id":"from_form","conf":{"a":"' value='"}}'>`;
    const html = `<form id="f" method="POST" enctype="text/plain" action="${target}">${formField}</form><script>
      fetch(${JSON.stringify(target)}, { method: "POST", mode: "no-cors", body: '{"logical_date":null,"dag_run_id":"from_fetch"}' })
        .finally(() => document.getElementById("f").submit());</script>`;
    const evil = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: () => new Response(html, { headers: { "content-type": "text/html" } }),
    });
    try {
      const evilPage = await browser.newPage();
      await evilPage.goto(`http://localhost:${evil.port}/`); // another site: localhost is not 127.0.0.1
      await evilPage.waitForURL(target);
      expect(await evilPage.textContent("body")).toContain(
        "Forbidden: a cross-site POST is refused (the browser marked it Sec-Fetch-Site: cross-site",
      );
      await evilPage.close();
    } finally {
      evil.stop(true);
    }
    for (const runId of ["from_form", "from_fetch"]) expect((await api("GET", `/api/v2/dags/open_dag/dagRuns/${runId}`)).status).toBe(404);
  });

  test("the login page itself goes on to the DAGs", async () => {
    await page.goto(`${url}/login`);
    await page.waitForURL(/\/dags$/);
    await page.getByRole("link", { name: "open_dag" }).first().waitFor();
  });
});
