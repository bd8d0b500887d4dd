/**
 * A task's rendered templates in the web UI's task panel (Chromium via playwright-core, against the compiled
 * binary), as Airflow's "Rendered Templates" shows them: once the task has run, its bash_command and env with the
 * run's date and conf filled in, and a secret variable's value masked. The panel showed nothing: the API's
 * rendered_fields was always {}. Skipped without a browser, except under CI=true.
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

describe.skipIf(!CHROMIUM)("rendered templates in the task panel", () => {
  let lf: Leoflow;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "leoflow-ui-rendered-"));
    mkdirSync(join(dir, "dags"));
    writeFileSync(
      join(dir, "dags", "ui_tpl.json"),
      JSON.stringify({
        dag_id: "ui_tpl",
        params: { region: { type: "string", default: "eu" } },
        tasks: [
          {
            task_id: "load",
            operator: "bash",
            bash_command: "echo {{ ds }} {{ params.region }} $HINT",
            env: { HINT: "t={{ var.value.api_token }}" },
          },
        ],
      }),
    );
    [lf, browser] = await startServerAndBrowser(dir, 1, CHROMIUM);
    expect((await lf.api("POST", "/api/v2/variables", { key: "api_token", value: "tok-9f8e7d" })).status).toBe(201);
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    await signIn(page, lf.url, "admin", "e2e-admin-password");
  }, 40_000);
  afterAll(async () => {
    await browser?.close();
    await lf?.stop();
  });

  test("a task that ran shows its bash_command and env rendered, the secret variable masked", async () => {
    await lf.api("POST", "/api/v2/dags/ui_tpl/dagRuns", {
      dag_run_id: "tpl-1",
      logical_date: "2026-03-01T00:00:00Z",
      conf: { region: "us" },
    });
    await waitForRun(lf, "ui_tpl", "tpl-1");
    await page.goto(`${lf.url}/dags/ui_tpl/runs/tpl-1/tasks/load`);
    const section = page.getByRole("region", { name: "Rendered templates" });
    await section.waitFor();
    expect(await section.getByRole("heading").textContent()).toBe("Rendered templates");
    const facts = section.locator("dl.facts");
    expect(await facts.locator("dt").allTextContents()).toEqual(["bash_command", "env"]);
    expect(await facts.locator("dd").first().textContent()).toBe("echo 2026-03-01 us $HINT");
    const env = await facts.locator("dd").nth(1).textContent();
    expect(JSON.parse(env ?? "null")).toEqual({ HINT: "t=***" });
    expect(await section.textContent()).not.toContain("tok-9f8e7d");
  });
});
