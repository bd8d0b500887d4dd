/**
 * The DAG page's reads, in Chromium against the compiled binary. It re-reads a run's task instances after an event
 * about it, later for a larger run (src/ui/app/refresh-pace.ts): a task instance marked over the API shows in the
 * grid at once (the event), and the page's next read of a run of 3 comes ~700 ms later. A DAG of 2,500 tasks is
 * read a window of rows at a time (src/ui/app/task-window.ts), never whole. Opening the page reads each run once,
 * even when the event stream connects (and the page refreshes its run list) while those reads are in flight.
 * Under CI=true a missing browser is a failure.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page, Response } from "playwright-core";
import { findChromium, signIn } from "../support/chromium";
import { waitFor, waitForRun, type Leoflow, startServerAndBrowser } from "./harness";

setDefaultTimeout(60_000);

const CHROMIUM = findChromium();

/** A DAG of `n` empty tasks: a triggered run ends in its first plan, all success. */
const emptyTasks = (dagId: string, n: number) => ({
  dag_id: dagId,
  tasks: Array.from({ length: n }, (_, i) => ({ task_id: `t${i}`, operator: "empty" })),
});

describe.skipIf(!CHROMIUM)("the DAG page's re-reads after events (Chromium, compiled binary)", () => {
  let lf: Leoflow;
  let browser: Browser;
  let page: Page;
  /** When the page asked for each run's task instances (ms, this process's clock), by DAG id. */
  const reads = new Map<string, number[]>();

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "leoflow-ui-pace-"));
    mkdirSync(join(dir, "dags"));
    writeFileSync(join(dir, "dags", "small.json"), JSON.stringify(emptyTasks("small", 3)));
    writeFileSync(join(dir, "dags", "wide.json"), JSON.stringify(emptyTasks("wide", 2_500)));
    [lf, browser] = await startServerAndBrowser(dir, 2, CHROMIUM);
    for (const dag of ["small", "wide"]) {
      expect((await lf.api("POST", `/api/v2/dags/${dag}/dagRuns`, { dag_run_id: "r1", logical_date: null })).status).toBe(200);
      await waitForRun(lf, dag, "r1");
    }
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    page.on("request", (req) => {
      const m = /\/api\/v2\/leoflow\/dags\/(\w+)\/dagRuns\/r1\/taskInstanceSummaries\b/.exec(req.url());
      if (m) reads.set(m[1]!, [...(reads.get(m[1]!) ?? []), Date.now()]);
    });
    await signIn(page, lf.url, "admin", "e2e-admin-password");
  });
  afterAll(async () => {
    await browser?.close();
    await lf?.stop();
  });

  /** Opens the DAG's page, marks task t0 of its run failed over the API: the ms until the page read the run again. */
  async function rereadAfterMark(dagId: string): Promise<number> {
    await page.goto(`${lf.url}/dags/${dagId}`);
    await page.locator('.grid a.bar[data-run="r1"][data-state="success"]').waitFor();
    await waitFor(
      async () => (reads.get(dagId)?.length ?? 0) >= 1,
      10_000,
      () => `no read of ${dagId}'s task instances`,
    );
    // The page's own reads are done (a stream that connected after them reads the run again): wait them out.
    await page.locator(".live.up").waitFor();
    await quiet(() => reads.get(dagId)!.length);
    const before = reads.get(dagId)!.length;
    const marked = await lf.api("PATCH", `/api/v2/dags/${dagId}/dagRuns/r1/taskInstances/t0`, { new_state: "failed" });
    expect(marked.status).toBe(200);
    const at = Date.now();
    await waitFor(
      async () => reads.get(dagId)!.length > before,
      20_000,
      () => `${dagId}: the page never read r1 again`,
    );
    return reads.get(dagId)![before]! - at;
  }

  /** Waits until `count` has not changed for 800 ms (longer than the 300 ms a connection's refresh waits, and its read). */
  async function quiet(count: () => number): Promise<void> {
    for (let last = -1; last !== count(); ) {
      last = count();
      await page.waitForTimeout(800);
    }
  }

  test("a run of 3 is read again ~700 ms after an event", async () => {
    // The timer's floor, not a speed: the read cannot come before its 700 ms wait.
    expect(await rereadAfterMark("small")).toBeGreaterThan(600);
  });

  test("a DAG of 2,500 tasks is read a window of rows at a time: the rows in view, those scrolled to, after an event the rows in view; its graph, the run whole", async () => {
    const windows: { runs: string[]; tasks: string[] }[] = [];
    const onRequest = (req: { url(): string }) => {
      const u = new URL(req.url());
      if (u.pathname === "/api/v2/leoflow/dags/wide/taskInstanceSummaries")
        windows.push({ runs: u.searchParams.getAll("dag_run_id"), tasks: u.searchParams.getAll("task_id") });
    };
    /**
     * The page's reads of the DAG's tasks: its structure or the full task list, with the tag the browser sent and the
     * body bytes that came over the wire (Playwright reports a revalidated answer as the cached 200; the 304 shows as
     * no body).
     */
    const taskReads: Promise<{ path: string; sentTag: boolean; bodyBytes: number }>[] = [];
    const onResponse = (res: Response) => {
      const path = new URL(res.url()).pathname;
      if (path === "/api/v2/leoflow/dags/wide/structure" || path === "/api/v2/dags/wide/tasks")
        taskReads.push(
          Promise.all([res.request().allHeaders(), res.request().sizes()]).then(([headers, sizes]) => ({
            path,
            sentTag: "if-none-match" in headers,
            bodyBytes: sizes.responseBodySize,
          })),
        );
    };
    page.on("request", onRequest);
    page.on("response", onResponse);
    try {
      await page.goto(`${lf.url}/dags/wide`);
      await page.getByText("2500 tasks").waitFor({ timeout: 20_000 });
      expect(reads.get("wide") ?? []).toEqual([]); // never the whole run
      // The tasks as the page draws them (~40 bytes a task), not the task list (~650).
      const [first] = await Promise.all(taskReads);
      expect(taskReads).toHaveLength(1);
      expect(first).toMatchObject({ path: "/api/v2/leoflow/dags/wide/structure", sentTag: false });
      expect(first!.bodyBytes).toBeLessThan(2_500 * 60);
      expect(windows[0]!.runs).toEqual(["r1"]);
      expect(windows[0]!.tasks.length).toBeGreaterThan(10);
      expect(windows[0]!.tasks.length).toBeLessThanOrEqual(200);

      // A task far down: the grid scrolls to it and reads the rows around it, for every run.
      const before = windows.length;
      await page.goto(`${lf.url}/dags/wide/runs/r1/tasks/t2400`);
      await page
        .getByRole("link", { name: "t2400 in r1: success" })
        .waitFor({ timeout: 20_000 })
        .catch(async (e) => {
          // What the page did instead: which rows it read, what its cell says, where the grid stands.
          const reads = windows.slice(before).map((w) => `${w.runs.join(",")}: ${w.tasks[0]}…${w.tasks.at(-1)} (${w.tasks.length})`);
          const cell = await page
            .locator(".grid a.gcursor")
            .first()
            .getAttribute("aria-label", { timeout: 1_000 })
            .catch(() => "(none)");
          const top = await page
            .locator(".grid")
            .first()
            .evaluate((el) => el.scrollTop, undefined, { timeout: 1_000 })
            .catch(() => "(none)");
          throw new Error(`${e}\nwindow reads since: ${JSON.stringify(reads)}\ncursor cell: ${cell}\ngrid scrollTop: ${top}`);
        });
      expect(windows.slice(before).some((w) => w.tasks.includes("t2400"))).toBe(true);
      // Opened again: the browser asks with the tag it holds, and the DAG unchanged, no body comes (a 304).
      expect(await Promise.all(taskReads)).toEqual([first!, { path: "/api/v2/leoflow/dags/wide/structure", sentTag: true, bodyBytes: 0 }]);
      expect(Math.max(...windows.map((w) => w.tasks.length))).toBeLessThanOrEqual(200);

      // An event about a task in view: its cell changes, and the re-read names the rows in view only.
      await page.locator(".live.up").waitFor();
      await quiet(() => windows.length);
      const after = windows.length;
      expect((await lf.api("PATCH", "/api/v2/dags/wide/dagRuns/r1/taskInstances/t2400", { new_state: "failed" })).status).toBe(200);
      await page.getByRole("link", { name: "t2400 in r1: failed" }).waitFor({ timeout: 20_000 });
      await waitFor(
        async () => windows.length > after,
        20_000,
        () => "no re-read of the rows in view after the event",
      );
      expect(windows[after]!.tasks).toContain("t2400");
      expect(windows[after]!.tasks.length).toBeLessThanOrEqual(200);
      expect(reads.get("wide") ?? []).toEqual([]);

      // The graph shows every task: it reads its run whole.
      await page.goto(`${lf.url}/dags/wide?tab=graph`);
      await waitFor(
        async () => (reads.get("wide")?.length ?? 0) >= 1,
        20_000,
        () => "the graph never read its run whole",
      );
    } finally {
      page.off("request", onRequest);
      page.off("response", onResponse);
    }
  });

  test("a change made after the page read its run and before the event stream connected still shows", async () => {
    // The stream's connection held back until the change is made: no event comes for it, the connection's refresh does.
    let release = () => {};
    const connected = new Promise<void>((r) => (release = r));
    const held = (u: URL) => u.pathname === "/api/v2/leoflow/events";
    await page.route(held, async (route) => {
      await connected;
      await route.continue();
    });
    try {
      await page.goto(`${lf.url}/dags/small/runs/r1/tasks/t1`);
      await page.getByRole("link", { name: "t1 in r1: success" }).waitFor({ timeout: 10_000 });
      expect((await lf.api("PATCH", "/api/v2/dags/small/dagRuns/r1/taskInstances/t1", { new_state: "failed" })).status).toBe(200);
      release();
      await page.getByRole("link", { name: "t1 in r1: failed" }).waitFor({ timeout: 10_000 });
    } finally {
      release();
      await page.unroute(held);
    }
  });

  test("opening a DAG page reads each run once, also when the event stream connects while the reads are in flight", async () => {
    for (const r of ["r2", "r3", "r4", "r5", "r6"]) {
      expect((await lf.api("POST", "/api/v2/dags/small/dagRuns", { dag_run_id: r, logical_date: null })).status).toBe(200);
      await waitForRun(lf, "small", r);
    }
    // The order is forced, not timed (a loaded machine once connected the stream after 600-ms-held reads had come
    // back, and a run read before the stream connected is rightly read again): the stream is held until the page
    // asked for its first run (the newest; the rest follow, four at a time), and the reads until the stream is up.
    const byRun = new Map<string, number>();
    let firstAsked = () => {};
    const asked = new Promise<void>((r) => (firstAsked = r));
    let streamUp = () => {};
    const up = new Promise<void>((r) => (streamUp = r));
    const held = "**/api/v2/leoflow/dags/small/dagRuns/*/taskInstanceSummaries";
    await page.route(held, async (route) => {
      const run = /dagRuns\/(\w+)\//.exec(route.request().url())![1]!;
      byRun.set(run, (byRun.get(run) ?? 0) + 1);
      firstAsked();
      await up;
      await route.continue();
    });
    const stream = (u: URL) => u.pathname === "/api/v2/leoflow/events";
    await page.route(stream, async (route) => {
      await asked;
      await route.continue();
    });
    try {
      await page.goto(`${lf.url}/dags/small`);
      await page.locator(".live.up").waitFor({ timeout: 20_000 });
      await Bun.sleep(500); // the connection's refresh of the run list (300 ms in) asks while the reads are held
      streamUp();
      await page.getByText("3 tasks").waitFor({ timeout: 20_000 }); // every run read (the grid's "loading…" gone)
      await page.waitForTimeout(1_000); // a second read of any run would have been asked for by now
      expect(Object.fromEntries(byRun)).toEqual({ r1: 1, r2: 1, r3: 1, r4: 1, r5: 1, r6: 1 });
    } finally {
      firstAsked();
      streamUp();
      await page.unroute(held);
      await page.unroute(stream);
    }
  });
});
