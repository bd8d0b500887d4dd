/**
 * What the DAG page shows, kept live: its tasks (grid order), its latest runs and their task instances.
 * Loads each run's task instances newest first (the grid opens at the newest runs), then applies events as
 * they come: a task instance's new state shows at once, and the run is re-read shortly after for its times (the
 * larger the run, the later: refresh-pace.ts). A DAG of more than WINDOWED_TASKS tasks is read a window of rows
 * at a time instead (task-window.ts): the rows the grid shows (showRows), for every run, in one request; the graph
 * asks for its run whole (loadRun).
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { api, eachLimited, seg } from "./api";
import { gridOrder } from "./graph-layout";
import { runRefreshDelayMs } from "./refresh-pace";
import { onEvent, onResync } from "./sse";
import { FIRST_WINDOW_ROWS, WINDOWED_TASKS, wantedTaskIds, windowQueries } from "./task-window";
import type { DagRun, Task, TaskInstanceState } from "./types";

export interface DagData {
  tasks: Task[];
  /** Oldest first (the grid's left) by run_after (byRunAfter). */
  runs: DagRun[];
  tis: Map<string, Map<string, TaskInstanceState>>;
  /** Bumped on every change, so views re-render the same maps. */
  version: number;
  error: Error | null;
  loading: boolean;
  /** Read a window of rows at a time (a DAG of more than WINDOWED_TASKS tasks): a run's map holds the rows read. */
  windowed: boolean;
  /** The grid's rows in view (first, last): a windowed DAG reads those not read yet. */
  showRows: (r0: number, r1: number) => void;
  /** Reads one run whole (the graph of a windowed DAG). */
  loadRun: (runId: string) => void;
}

/** `runQuery`: the grid's filters as query parameters of GET …/dagRuns (`&state=failed&run_type=manual`), or "". */
export function useDagData(dagId: string, runLimit: number, runQuery = ""): DagData {
  const [, setVersion] = useState(0);
  const state = useRef<DagData>(empty());
  const frame = useRef(false);
  // Many runs arrive in one burst: draw once per animation frame, not once per run.
  const bump = () => {
    state.current = { ...state.current, version: state.current.version + 1 };
    if (frame.current) return;
    frame.current = true;
    requestAnimationFrame(() => {
      frame.current = false;
      setVersion((v) => v + 1);
    });
  };

  useEffect(() => {
    const ctl = new AbortController();
    state.current = empty();
    const s = () => state.current;
    const dagPath = `/dags/${seg(dagId)}`;
    const pendingRuns = new Set<string>();
    /** Entries (tasks) each run had at its last read: a large run is re-read less often. */
    const sizes = new Map<string, number>();
    let runsTimer: ReturnType<typeof setTimeout> | null = null;
    let refreshTimer: ReturnType<typeof setTimeout> | null = null;
    /**
     * Runs the first load is about to read: a refresh of the run list meanwhile (the event stream connecting,
     * 300 ms in) leaves them to it. Without this a page opening 50 runs read ~40 of them twice.
     */
    const firstLoad = new Set<string>();
    /** Windowed: the task ids of the rows wanted (in view and the margin), and those read for every run shown. */
    let wanted: string[] = [];
    const readForAll = new Set<string>();
    /**
     * Bumped when runs join the window's reads (a refresh of the run list): a read of rows for the runs known
     * before does not make those rows read for every run, so it leaves readForAll alone when it comes back.
     */
    let windowEpoch = 0;
    let windowTimer: ReturnType<typeof setTimeout> | null = null;
    /**
     * How often the event stream may have missed events so far (its first connection, one that could not resume,
     * a drop), and for each run that count when its last read came back: a run read before the latest miss may
     * have changed with no event, so the refresh that follows reads it again.
     */
    let misses = 0;
    const readAt = new Map<string, number>();

    const loadTis = async (runId: string) => {
      // One entry per task, a mapped task's instances folded by the server (taskInstanceSummaries): a task mapped
      // over 10,000 items is one entry, not 10,000.
      const r = await api<{ task_instances: TaskInstanceState[] }>(
        "GET",
        `/leoflow${dagPath}/dagRuns/${seg(runId)}/taskInstanceSummaries`,
        undefined,
        ctl.signal,
      );
      sizes.set(runId, r.task_instances.length);
      readAt.set(runId, misses);
      s().tis.set(runId, new Map(r.task_instances.map((t) => [t.task_id, t])));
      firstLoad.delete(runId);
      bump();
    };
    /** Windowed: reads `taskIds` of `runIds` into the runs' maps (windowQueries bounds each request's URL). */
    const readWindow = async (runIds: string[], taskIds: string[]) => {
      for (const q of windowQueries(runIds, taskIds)) {
        const r = await api<{ dag_runs: { dag_run_id: string; task_instances: TaskInstanceState[] }[] }>(
          "GET",
          `/leoflow${dagPath}/taskInstanceSummaries?${q}`,
          undefined,
          ctl.signal,
        );
        for (const run of r.dag_runs) {
          const m = s().tis.get(run.dag_run_id) ?? new Map<string, TaskInstanceState>();
          for (const t of run.task_instances) m.set(t.task_id, t);
          s().tis.set(run.dag_run_id, m);
          sizes.set(run.dag_run_id, wanted.length);
          readAt.set(run.dag_run_id, misses);
        }
        bump();
      }
    };
    /** Windowed: what the rows wanted need that no read gave every run yet; later reads forget the rest. */
    const readWanted = async () => {
      // No run yet (the grid can show its rows before the run list comes): nothing to read, and nothing read.
      const runIds = s().runs.map((r) => r.dag_run_id);
      const missing = wanted.filter((id) => !readForAll.has(id));
      if (!missing.length || !runIds.length) return;
      const epoch = windowEpoch;
      await readWindow(runIds, missing);
      if (epoch === windowEpoch) for (const id of missing) readForAll.add(id);
    };
    const showRows = (r0: number, r1: number) => {
      if (!s().windowed) return;
      wanted = wantedTaskIds(
        s().tasks.map((t) => t.task_id),
        r0,
        r1,
      );
      if (windowTimer) clearTimeout(windowTimer);
      // A scroll settles before its rows are read: one read per stop, not one per frame.
      windowTimer = setTimeout(() => {
        windowTimer = null;
        readWanted().catch(() => {});
      }, 80);
    };
    const loadRun = (runId: string) => {
      if (s().windowed) loadTis(runId).catch(() => {});
    };
    state.current = { ...s(), showRows, loadRun };

    const loadRuns = async () => {
      // The latest runs by run_after, as Airflow 3's grid: a backfill of October created today is October's, not
      // the newest (by id it pushed the latest scheduled run out of the grid).
      const r = await api<{ dag_runs: DagRun[] }>(
        "GET",
        `${dagPath}/dagRuns?limit=${runLimit}&order_by=-run_after${runQuery}`,
        undefined,
        ctl.signal,
      );
      const known = new Set(s().runs.map((x) => x.dag_run_id));
      state.current = { ...s(), runs: byRunAfter(r.dag_runs.slice().reverse()) };
      bump();
      const stale = (id: string) => !known.has(id) || !s().tis.has(id) || (readAt.get(id) ?? -1) < misses;
      return r.dag_runs.filter((x) => stale(x.dag_run_id) && !firstLoad.has(x.dag_run_id));
    };
    void (async () => {
      try {
        // The newest run's task instances alone first, once the tasks say whole runs are read (not a window): the
        // server answers one request faster than six, and the newest run is what opens in view, the first useful paint.
        const tasks = api<{ tasks: Task[] }>("GET", `/leoflow${dagPath}/structure`, undefined, ctl.signal).then((t) => {
          const ordered = gridOrder(t.tasks);
          state.current = { ...s(), tasks: ordered, windowed: ordered.length > WINDOWED_TASKS };
          bump();
        });
        const [, rest] = await Promise.all([
          tasks,
          loadRuns().then(async () => {
            const newestFirst = s().runs.slice().reverse();
            for (const r of newestFirst) firstLoad.add(r.dag_run_id);
            await tasks; // whole runs or a window of rows: the task count says
            if (s().windowed) return [];
            if (newestFirst[0]) await loadTis(newestFirst[0].dag_run_id);
            return newestFirst.slice(1);
          }),
        ]);
        if (s().windowed) {
          // The grid opens at the top rows; it asks for others as it shows them (showRows).
          if (!wanted.length)
            wanted = s()
              .tasks.slice(0, FIRST_WINDOW_ROWS)
              .map((t) => t.task_id);
          await readWanted();
          firstLoad.clear();
        }
        await eachLimited(rest, 4, (run) => loadTis(run.dag_run_id));
        state.current = { ...s(), loading: false };
        bump();
      } catch (e) {
        firstLoad.clear(); // what the failed first load did not read, a later refresh does
        if (ctl.signal.aborted) return;
        state.current = { ...s(), error: e as Error, loading: false };
        bump();
      }
    })();

    /** Windowed: rows stay read for every run only while wanted; the others are read again when shown. */
    const forgetUnwanted = () => {
      const stillWanted = new Set(wanted);
      for (const id of readForAll) if (!stillWanted.has(id)) readForAll.delete(id);
    };
    const refreshSoon = () => {
      if (refreshTimer) return;
      let largest = 0;
      for (const r of pendingRuns) largest = Math.max(largest, sizes.get(r) ?? 0);
      refreshTimer = setTimeout(async () => {
        refreshTimer = null;
        const runs = [...pendingRuns];
        pendingRuns.clear();
        if (!s().windowed) return void (await eachLimited(runs, 4, (r) => loadTis(r).catch(() => {})));
        // Windowed: the rows wanted, again; rows read before and out of view are read again when shown.
        forgetUnwanted();
        await readWindow(runs, wanted).catch(() => {});
      }, runRefreshDelayMs(largest));
    };
    const runsSoon = () => {
      if (runsTimer) return;
      runsTimer = setTimeout(async () => {
        runsTimer = null;
        try {
          const fresh = await loadRuns();
          if (!s().windowed) return void (await eachLimited(fresh, 4, (r) => loadTis(r.dag_run_id).catch(() => {})));
          // Windowed: new (and stale) runs get the rows wanted. A row stays read for every run if it was and is
          // wanted (read for those runs here); the others are read again when shown. The rows wanted that no read
          // gave every run yet (a scroll's read still waiting for its turn) are read for all of them after:
          // marking them read here left a row scrolled to unread until the next scroll.
          forgetUnwanted();
          if (fresh.length) windowEpoch++;
          await readWindow(
            fresh.map((r) => r.dag_run_id),
            wanted,
          );
          await readWanted();
        } catch {
          // The next event tries again.
        }
      }, 300);
    };

    const off = onEvent((e) => {
      if (e.dag_id !== dagId) return;
      if (e.type === "task_instance.state_changed" && e.task_id) {
        const run = s().tis.get(e.run_id);
        if (!run) return runsSoon();
        const old = run.get(e.task_id);
        // A mapped task's cell sums its instances: one instance's event does not say its state; the refresh does.
        if (old && !old.mapped_count)
          run.set(e.task_id, { ...old, state: e.state === "none" ? null : (e.state ?? null), try_number: e.try_number ?? old.try_number });
        bump();
        pendingRuns.add(e.run_id);
        refreshSoon();
      } else if (e.type === "dag_run.created") runsSoon();
      else if (e.type.startsWith("dag_run.")) {
        const i = s().runs.findIndex((r) => r.dag_run_id === e.run_id);
        if (i < 0) return runsSoon();
        const runs = s().runs.slice();
        runs[i] = { ...(runs[i] as DagRun), state: e.state ?? (runs[i] as DagRun).state };
        state.current = { ...s(), runs };
        bump();
        runsSoon();
      }
    });
    // Runs and task instances that changed before the stream connected (or in events it dropped) sent no event:
    // the run list is read again, and, when events may have been missed, the runs read before.
    const offResync = onResync((missed) => {
      if (missed) misses++;
      runsSoon();
    });
    return () => {
      ctl.abort();
      off();
      offResync();
      if (runsTimer) clearTimeout(runsTimer);
      if (refreshTimer) clearTimeout(refreshTimer);
      if (windowTimer) clearTimeout(windowTimer);
    };
  }, [dagId, runLimit, runQuery]);
  return state.current;
}

/**
 * The grid's order, oldest left: by run_after, then logical date (a run without one first), then as given (the
 * server's tie-break, its id). Sorts in place and returns `runs`. Pure.
 */
export function byRunAfter(runs: DagRun[]): DagRun[] {
  const cmp = (a: string | null | undefined, b: string | null | undefined) => (a ? Date.parse(a) : -1e15) - (b ? Date.parse(b) : -1e15);
  return runs.sort((a, b) => cmp(a.run_after, b.run_after) || cmp(a.logical_date, b.logical_date));
}

function empty(): DagData {
  const none = () => {};
  return { tasks: [], runs: [], tis: new Map(), version: 0, error: null, loading: true, windowed: false, showRows: none, loadRun: none };
}
