/**
 * A task instance's note editor edits the user's note alone. Where no one wrote a note the API shows the system's
 * reason (here a failed bash task's exit); editing must start empty, not from that reason, so that saving never makes
 * the system's words a user's note, and clearing a user's note shows the reason again. Chromium against the compiled
 * binary; skipped without a browser, except under CI=true.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { findChromium, signIn } from "../support/chromium";
import { ADMIN_PASSWORD, waitForRun, type Leoflow, startServerAndBrowser } from "./harness";

setDefaultTimeout(120_000);
const CHROMIUM = findChromium();
const TI = "/api/v2/dags/fails/dagRuns/r1/taskInstances/boom";

describe.skipIf(!CHROMIUM)("the task instance note editor (Chromium, compiled binary)", () => {
  let lf: Leoflow;
  let browser: Browser;

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "leoflow-ui-note-"));
    mkdirSync(join(dir, "dags"));
    const dag = { dag_id: "fails", tasks: [{ task_id: "boom", operator: "bash", bash_command: "exit 3" }] };
    writeFileSync(join(dir, "dags", "fails.json"), JSON.stringify(dag));
    [lf, browser] = await startServerAndBrowser(dir, 1, CHROMIUM);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await lf?.stop();
  });

  test("with only the system's reason shown, the editor starts empty; a user's note replaces it and clearing brings it back", async () => {
    expect((await lf.api("POST", "/api/v2/dags/fails/dagRuns", { dag_run_id: "r1", logical_date: null })).status).toBe(200);
    await waitForRun(lf, "fails", "r1");
    const reason = (await lf.api("GET", TI)).body.note as string;
    expect(reason).toBeTruthy();

    const p = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId: "UTC" })).newPage();
    await signIn(p, lf.url, "admin", ADMIN_PASSWORD);
    await p.goto(`${lf.url}/dags/fails/runs/r1/tasks/boom`);
    const note = p.getByTestId("note");
    await note.getByText(reason).waitFor();
    await p.getByRole("button", { name: "Add note" }).click();
    expect(await p.getByLabel("Note").inputValue()).toBe("");
    await p.getByLabel("Note").fill("INC-7: disk full on the worker");
    await p.getByRole("button", { name: "Save note" }).click();
    await note.getByText("INC-7: disk full on the worker").waitFor();
    expect((await lf.api("GET", TI)).body).toMatchObject({
      note: "INC-7: disk full on the worker",
      user_note: "INC-7: disk full on the worker",
    });

    await p.getByRole("button", { name: "Edit note" }).click();
    expect(await p.getByLabel("Note").inputValue()).toBe("INC-7: disk full on the worker");
    await p.getByLabel("Note").fill("");
    await p.getByRole("button", { name: "Save note" }).click();
    await note.getByText(reason).waitFor();
    expect((await lf.api("GET", TI)).body).toMatchObject({ note: reason, user_note: null });
    await p.close();
  });
});
