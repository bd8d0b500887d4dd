/**
 * A tester's third round of findings in the web UI, in Chromium against the compiled binary (Airflow 3's UI as the
 * reference):
 * - the DAG list's filters, the grid's and the audit log's were lost on reload and could not be shared; one tag at a
 *   time: now they live in the URL (back and forward step through them), and several tags match any of them or all;
 * - marking a run asked for no preview: now its dialog lists the task instances the mark changes (a dry run);
 * - notes showed on one line: now with their line breaks;
 * - an expired session (or a deleted user) failed silently: now the sign-in page says the session expired and
 *   comes back to the same page;
 * - a stopped server's banner blamed the database: now it says the server cannot be reached, and goes when it answers;
 * - edit dialogs sent every field, undoing someone else's concurrent edit: now only the fields changed;
 * - at a phone's width (375 px) the DAG list and the DAG page scrolled sideways: now they fit.
 * Skipped without a browser, except under CI=true.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { findChromium, signIn } from "../support/chromium";
import { ADMIN_PASSWORD, startLeoflow, waitFor, waitForRun, type Leoflow, startServerAndBrowser } from "./harness";

setDefaultTimeout(120_000);

const CHROMIUM = findChromium();
const SHOTS = process.env.LEOFLOW_UI_TEST_SHOTS ?? null;

/** A DAG folder: three tagged one-task DAGs and a chain of three. */
function writeDags(dir: string): void {
  const dags = join(dir, "dags");
  mkdirSync(dags);
  const write = (name: string, dag: unknown) => writeFileSync(join(dags, name), JSON.stringify(dag));
  const one = [{ task_id: "only", operator: "empty" }];
  write("alpha.json", { dag_id: "alpha", tags: ["etl", "daily"], tasks: one });
  write("beta.json", { dag_id: "beta", tags: ["etl"], tasks: one });
  write("gamma.json", { dag_id: "gamma", tags: ["ml"], tasks: one });
  write("chain.json", {
    dag_id: "chain",
    tasks: [
      { task_id: "first", operator: "empty" },
      { task_id: "second", operator: "bash", bash_command: "sleep 600", upstream: ["first"] },
      { task_id: "third", operator: "empty", upstream: ["second"] },
    ],
  });
}

describe.skipIf(!CHROMIUM)("the web UI after a tester's third round (Chromium, compiled binary)", () => {
  let lf: Leoflow;
  let browser: Browser;
  const shot = async (p: Page, name: string) => {
    if (SHOTS) await p.screenshot({ path: join(SHOTS, `${name}.png`) });
  };
  const newContext = (width = 1280, height = 800): Promise<BrowserContext> =>
    browser.newContext({ viewport: { width, height }, timezoneId: "UTC" });
  const newPage = async (opts: { url?: string; username?: string; password?: string; width?: number } = {}) => {
    const p = await (await newContext(opts.width)).newPage();
    await signIn(p, opts.url ?? lf.url, opts.username ?? "admin", opts.password ?? ADMIN_PASSWORD);
    return p;
  };
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await lf.api(method, path, body);
    expect(r.status, `${method} ${path}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
    return r.body;
  };
  /** The DAG ids the list shows, once it shows exactly `want`. */
  const listShows = async (p: Page, want: string[]) => {
    let shown: string[] = [];
    await waitFor(
      async () =>
        JSON.stringify(
          (shown = await p.locator(".dag-rows .row[data-dag]").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-dag") ?? ""))),
        ) === JSON.stringify(want),
      10_000,
      () => `the list shows ${JSON.stringify(shown)}, not ${JSON.stringify(want)}`,
    );
  };
  const query = (p: Page) => new URL(p.url()).searchParams;
  const gridRuns = (p: Page) => p.locator(".gbars a.bar").evaluateAll((bars) => bars.map((b) => b.getAttribute("data-run")).sort());

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "leoflow-ui-findings-3-"));
    writeDags(dir);
    [lf, browser] = await startServerAndBrowser(dir, 4, CHROMIUM);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await lf?.stop();
  });

  test("the DAG list's filters live in the URL: several tags (any or all), last run state, search; reload and back keep them", async () => {
    await call("POST", "/api/v2/dags/gamma/dagRuns", { dag_run_id: "g1", logical_date: null });
    await waitForRun(lf, "gamma", "g1");
    const p = await newPage();
    await listShows(p, ["alpha", "beta", "chain", "gamma"]);
    // Two tags from the tag picker: DAGs with any of them, as Airflow.
    await p.getByLabel("Filter by tag").selectOption("etl");
    await p.getByLabel("Filter by tag").selectOption("daily");
    await listShows(p, ["alpha", "beta"]);
    expect(query(p).getAll("tags")).toEqual(["etl", "daily"]);
    await p.getByRole("button", { name: "All tags" }).click();
    await listShows(p, ["alpha"]);
    expect(query(p).get("tags_match_mode")).toBe("all");
    await shot(p, "dag-list-two-tags");
    await p.reload();
    await listShows(p, ["alpha"]);
    expect(await p.getByRole("button", { name: "All tags" }).getAttribute("aria-pressed")).toBe("true");
    await p.getByRole("button", { name: "Remove tag filter daily" }).waitFor();
    // Back: any of the two tags again; back again: one tag.
    await p.goBack();
    await listShows(p, ["alpha", "beta"]);
    await p.goBack();
    await listShows(p, ["alpha", "beta"]);
    expect(query(p).getAll("tags")).toEqual(["etl"]);
    await p.goForward();
    await p.goForward();
    await listShows(p, ["alpha"]);

    // A shared link: last run state and paused, as the API names them.
    await p.goto(`${lf.url}/dags?last_dag_run_state=success&paused=false`);
    await listShows(p, ["gamma"]);
    expect(await p.getByLabel("Filter by last run state").inputValue()).toBe("success");
    expect(await p.getByRole("button", { name: "Active", exact: true }).getAttribute("aria-pressed")).toBe("true");
    await p.getByLabel("Filter by last run state").selectOption("");
    await listShows(p, ["alpha", "beta", "chain", "gamma"]);
    expect(query(p).has("last_dag_run_state")).toBe(false);

    // The search box: in the URL once typed, kept by a reload.
    await p.getByLabel("Search DAGs by id").fill("bet");
    await listShows(p, ["beta"]);
    await waitFor(
      async () => query(p).get("search") === "bet",
      5_000,
      () => `the URL is ${p.url()}`,
    );
    await p.reload();
    await listShows(p, ["beta"]);
    expect(await p.getByLabel("Search DAGs by id").inputValue()).toBe("bet");
    await p.close();
  });

  test("the grid's filters live in the URL and stay as the user clicks a run; a reload keeps them", async () => {
    await call("POST", "/api/v2/dags/beta/dagRuns", { dag_run_id: "ok", logical_date: null });
    await waitForRun(lf, "beta", "ok");
    await call("POST", "/api/v2/dags/beta/dagRuns", { dag_run_id: "bad", logical_date: null });
    await waitForRun(lf, "beta", "bad");
    await call("PATCH", "/api/v2/dags/beta/dagRuns/bad?update_mask=state", { state: "failed" });
    const p = await newPage();
    await p.goto(`${lf.url}/dags/beta`);
    await waitFor(
      async () => (await gridRuns(p)).length === 2,
      10_000,
      () => "the grid did not show both runs",
    );
    await p.getByLabel("Run state").selectOption("failed");
    await waitFor(
      async () => JSON.stringify(await gridRuns(p)) === '["bad"]',
      10_000,
      () => "the grid did not keep only the failed run",
    );
    expect(query(p).get("run_state")).toBe("failed");
    await p.locator('.gbars a.bar[data-run="bad"]').click();
    await p.waitForURL((u) => u.pathname === "/dags/beta/runs/bad");
    expect(query(p).get("run_state")).toBe("failed");
    await p.reload();
    await p.locator("aside").getByText("Run bad").waitFor();
    await waitFor(
      async () => JSON.stringify(await gridRuns(p)) === '["bad"]',
      10_000,
      () => "after a reload, the grid did not keep only the failed run",
    );
    expect(await p.getByLabel("Run state").inputValue()).toBe("failed");
    await p.close();
  });

  test("marking a run lists the task instances it changes before the user confirms", async () => {
    await call("POST", "/api/v2/dags/chain/dagRuns", { dag_run_id: "m1", logical_date: null });
    await waitFor(
      async () => (await lf.api("GET", "/api/v2/dags/chain/dagRuns/m1/taskInstances/second")).body.state === "running",
      30_000,
      () => "the task second did not start",
    );
    const p = await newPage();
    await p.goto(`${lf.url}/dags/chain/runs/m1`);
    await p.getByRole("button", { name: "Mark run as…" }).click();
    const dialog = p.getByRole("dialog", { name: "Mark run m1" });
    const changes = dialog.getByRole("list", { name: "What will change" });
    await changes.waitFor();
    /** Each line: the task, its state now → the state it gets. */
    let seen: string[] = [];
    const items = async () =>
      (seen = (await changes.getByRole("listitem").allTextContents()).map((t) => t.replace("m1", "").replace(/\s+/g, " ").trim()).sort());
    // Success: every task instance not already successful (first, an empty task, already is).
    await waitFor(
      async () => JSON.stringify(await items()) === JSON.stringify(["second running → success", "third no status → success"]),
      5_000,
      () => `the preview shows ${JSON.stringify(seen)}`,
    );
    await dialog.getByRole("radio", { name: "failed" }).check();
    await waitFor(
      async () => JSON.stringify(await items()) === JSON.stringify(["second running → failed", "third no status → skipped"]),
      5_000,
      () => `the preview shows ${JSON.stringify(seen)}`,
    );
    expect(await dialog.getByRole("button", { name: "Mark failed 2" }).isEnabled()).toBe(true);
    await shot(p, "mark-run-preview");
    // Nothing was written by the preview.
    expect((await lf.api("GET", "/api/v2/dags/chain/dagRuns/m1")).body.state).toBe("running");
    await dialog.getByRole("button", { name: "Mark failed 2" }).click();
    await dialog.waitFor({ state: "hidden" });
    expect((await lf.api("GET", "/api/v2/dags/chain/dagRuns/m1")).body.state).toBe("failed");
    expect((await lf.api("GET", "/api/v2/dags/chain/dagRuns/m1/taskInstances/third")).body.state).toBe("skipped");
    await p.close();
  });

  test("run and task instance notes keep their line breaks", async () => {
    await call("POST", "/api/v2/dags/alpha/dagRuns", { dag_run_id: "n1", logical_date: null });
    await waitForRun(lf, "alpha", "n1");
    await call("PATCH", "/api/v2/dags/alpha/dagRuns/n1?update_mask=note", { note: "line one\nline two" });
    await call("PATCH", "/api/v2/dags/alpha/dagRuns/n1/taskInstances/only?update_mask=note", { note: "ti one\nti two\n<b>not bold</b>" });
    const p = await newPage();
    await p.goto(`${lf.url}/dags/alpha/runs/n1`);
    const note = p.getByTestId("note");
    await note.getByText("line one").waitFor();
    // innerText, not textContent: the text as drawn, whose line breaks are what this checks.
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is the point
    expect(await note.innerText()).toBe("line one\nline two");
    await p.goto(`${lf.url}/dags/alpha/runs/n1/tasks/only`);
    await note.getByText("ti one").waitFor();
    // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is the point
    expect(await note.innerText()).toBe("ti one\nti two\n<b>not bold</b>");
    expect(await note.locator("b").count()).toBe(0);
    await p.close();
  });

  test("edit dialogs send only the fields changed: someone else's concurrent edit of another field stays", async () => {
    await call("POST", "/api/v2/variables", { key: "v1", value: "a", description: "old" });
    await call("POST", "/api/v2/pools", { name: "p1", slots: 2, description: "old" });
    await call("POST", "/api/v2/connections", { connection_id: "c1", conn_type: "http", host: "h1", login: "l1" });
    const p = await newPage();
    const editRow = async (page: string, key: string) => {
      await p.goto(`${lf.url}/${page}`);
      await p.getByRole("row").filter({ hasText: key }).getByRole("button", { name: "Edit" }).click();
      return p.getByRole("dialog", { name: `Edit ${key}` });
    };

    let dialog = await editRow("variables", "v1");
    await call("PATCH", "/api/v2/variables/v1?update_mask=description", { key: "v1", value: "a", description: "theirs" });
    await dialog.getByLabel("Value").fill("b");
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.waitFor({ state: "hidden" });
    expect(await call("GET", "/api/v2/variables/v1")).toMatchObject({ value: "b", description: "theirs" });

    dialog = await editRow("pools", "p1");
    await call("PATCH", "/api/v2/pools/p1?update_mask=description", { name: "p1", description: "theirs" });
    await dialog.getByLabel("Slots").fill("5");
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.waitFor({ state: "hidden" });
    expect(await call("GET", "/api/v2/pools/p1")).toMatchObject({ slots: 5, description: "theirs" });

    dialog = await editRow("connections", "c1");
    await call("PATCH", "/api/v2/connections/c1?update_mask=login", { connection_id: "c1", conn_type: "http", login: "theirs" });
    await dialog.getByLabel("Host").fill("h2");
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.waitFor({ state: "hidden" });
    expect(await call("GET", "/api/v2/connections/c1")).toMatchObject({ host: "h2", login: "theirs" });
    await p.close();
  });

  test("the audit log's filters live in the URL too", async () => {
    const p = await newPage();
    await p.goto(`${lf.url}/audit?event_pattern=pool`);
    expect(await p.getByLabel("Filter by event").inputValue()).toBe("pool");
    let events: string[] = [];
    const onlyPools = async () =>
      (events = await p.locator("table tbody tr td:nth-child(2)").allTextContents()).length > 0 && events.every((e) => e.includes("pool"));
    await waitFor(onlyPools, 10_000, () => `the audit log shows ${JSON.stringify(events)}`);
    await p.getByLabel("Filter by user").fill("admin");
    await waitFor(
      () => query(p).get("owner_pattern") === "admin",
      5_000,
      () => `the URL is ${p.url()}`,
    );
    await p.reload();
    expect(await p.getByLabel("Filter by user").inputValue()).toBe("admin");
    expect(await p.getByLabel("Filter by event").inputValue()).toBe("pool");
    await waitFor(onlyPools, 10_000, () => `after a reload, the audit log shows ${JSON.stringify(events)}`);
    await p.close();
  });

  test("a deleted user's session says it expired and signs in back to the same page", async () => {
    await call("POST", "/api/v2/leoflow/users", { username: "leaving", password: "leaving-password", role: "Admin" });
    const p = await newPage({ username: "leaving", password: "leaving-password" });
    await p.goto(`${lf.url}/dags/beta?run_state=failed`);
    await p.locator('.gbars a.bar[data-run="bad"]').waitFor();
    expect((await lf.api("DELETE", "/api/v2/leoflow/users/leaving")).status).toBe(204);
    // The page finds out at its next call: the click's, or a refresh's or the event stream's when one comes first
    // (on a loaded machine it can, and the bar is then gone before the click).
    const expired = p.getByText("Your session has expired — sign in again.");
    const clicked = await Promise.race([
      p
        .locator('.gbars a.bar[data-run="bad"]')
        .click()
        .then(
          () => true,
          () => false,
        ),
      expired.waitFor().then(() => false),
    ]);
    await expired.waitFor();
    expect(new URL(p.url()).pathname).toBe("/login");
    await shot(p, "session-expired");
    await p.getByLabel("Username").fill("admin");
    await p.getByLabel("Password").fill(ADMIN_PASSWORD);
    await p.getByRole("button", { name: "Sign in" }).click();
    // Back where the user was, with the page's filters: the run they clicked, or the DAG page if the refresh came first.
    const back = clicked ? "/dags/beta/runs/bad" : "/dags/beta";
    await p.waitForURL((u) => u.pathname === back && u.searchParams.get("run_state") === "failed");
    if (clicked) await p.locator("aside").getByText("Run bad").waitFor();
    await p.close();
  });

  test("a token whose time runs out while the page is open ends the session with the same message", async () => {
    const ctx = await newContext();
    await ctx.clock.install();
    const p = await ctx.newPage();
    await signIn(p, lf.url, "admin", ADMIN_PASSWORD);
    await p.goto(`${lf.url}/pools`);
    await p.getByRole("heading", { name: "Pools" }).waitFor();
    // The server's tokens last a day (--token-ttl): the page's clock moves past it.
    await p.clock.fastForward("24:00:30");
    await p.getByText("Your session has expired — sign in again.").waitFor();
    expect(new URL(p.url()).searchParams.get("next")).toBe("/pools");
    await ctx.close();
  });

  test("a stopped server's banner says the server cannot be reached, not the database, and goes when it is back", async () => {
    const dir = mkdtempSync(join(tmpdir(), "leoflow-ui-unreachable-"));
    writeDags(dir);
    let server = await startLeoflow({ dir });
    const port = new URL(server.url).port;
    try {
      const p = await newPage({ url: server.url });
      await p.getByRole("switch", { name: "Active: alpha" }).waitFor();
      expect(await server.stop()).toBe(0);
      const banner = p.getByRole("alert").filter({ hasText: "Cannot reach the Leoflow server" });
      await banner.waitFor({ timeout: 20_000 });
      expect(await p.getByText("database").count()).toBe(0);
      await shot(p, "server-unreachable");
      server = await startLeoflow({ dir, args: ["--port", port] });
      await banner.waitFor({ state: "hidden", timeout: 20_000 });
      expect(await p.getByRole("alert").count()).toBe(0);
      await p.close();
    } finally {
      await server.stop();
    }
  });

  test("behind a reverse proxy, its 502 or 504 for a stopped server shows the same banner; at the next answer it goes and the page loads", async () => {
    const p = await newPage();
    await p.getByRole("switch", { name: "Active: alpha" }).waitFor();
    // The proxy's answers while the server behind it is down (Leoflow itself never answers 502 or 504).
    let status = 502;
    await p.route("**/api/v2/**", (route) =>
      route.fulfill({ status, contentType: "text/html", body: "<html><h1>Bad Gateway</h1></html>" }),
    );
    const banner = p.getByRole("alert").filter({ hasText: "Cannot reach the Leoflow server" });
    await p.reload();
    await banner.waitFor({ timeout: 20_000 });
    expect(await p.getByText("Bad Gateway").count()).toBe(0);
    status = 504;
    await p.reload();
    await banner.waitFor({ timeout: 20_000 });
    await p.unroute("**/api/v2/**");
    await banner.waitFor({ state: "hidden", timeout: 20_000 });
    // The list whose first load got no answer loads by itself once the server answers again: no reload needed.
    await p.getByRole("switch", { name: "Active: alpha" }).waitFor({ timeout: 20_000 });
    expect(await banner.count()).toBe(0);
    await p.close();
  });

  test("at a phone's width (375 px) the DAG list, a DAG's page and the admin pages do not scroll sideways", async () => {
    const p = await newPage({ width: 375 });
    /** How far the page scrolls sideways: the document, and the main area (tables scroll in boxes of their own). */
    const overflow = () =>
      p.evaluate(() => {
        const main = document.getElementById("main") as HTMLElement;
        return Math.max(document.documentElement.scrollWidth - innerWidth, main.scrollWidth - main.clientWidth);
      });
    await p.getByRole("switch", { name: "Active: alpha" }).waitFor();
    await shot(p, "phone-dag-list");
    expect(await overflow()).toBe(0);
    for (const path of [
      "/dags/beta",
      "/dags/beta/runs/ok",
      "/dags/beta/runs/ok/tasks/only",
      "/dags/beta?tab=graph",
      "/pools",
      "/variables",
    ]) {
      await p.goto(`${lf.url}${path}`);
      await p.locator("main h1").first().waitFor();
      await p.waitForTimeout(300); // let the page draw its data: this is a layout check, not a timing one
      if (SHOTS) await shot(p, `phone${path.replaceAll(/[/?=]/g, "-")}`);
      expect({ path, overflow: await overflow() }).toEqual({ path, overflow: 0 });
    }
    await p.close();
  });
});
