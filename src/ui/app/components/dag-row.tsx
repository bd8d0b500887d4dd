/** @jsxImportSource preact */
/**
 * One row of the DAG list. Memoized and free of handlers (the list delegates clicks by data attributes), so
 * scrolling draws only the rows that come into view and a run update redraws only its DAG's row.
 */
import { formatTime } from "../format";
import { dagHref } from "../router";
import { stateColor, stateLabel } from "../states";
import type { Dag, DagRun } from "../types";
import { pauseSwitch } from "./common";
import { pure } from "./pure";

export const RECENT_RUNS = 10;

interface Props {
  dag: Dag;
  paused: boolean;
  runs: DagRun[] | undefined;
  canPause: boolean;
  canTrigger: boolean;
}

export const DagRow = pure(function DagRow({ dag, paused, runs, canPause, canTrigger }: Props) {
  return (
    <div class="row" data-dag={dag.dag_id}>
      <span>
        <button {...pauseSwitch(dag.dag_id, paused, canPause)} aria-label={`Active: ${dag.dag_id}`} data-pause={dag.dag_id} />
      </span>
      {/* The id on its line (cut with "…", whole in its title), the tags on theirs: a long id no longer hides them. */}
      <span class="dag-id">
        <a href={dagHref(dag.dag_id)} data-nav="" title={dag.dag_id}>
          {dag.dag_id}
        </a>
        {dag.tags.length ? (
          <span class="tags">
            {dag.tags.map((t) => (
              <button key={t.name} type="button" class="chip" tabIndex={-1} data-tag={t.name} title={t.name}>
                {t.name}
              </button>
            ))}
          </span>
        ) : null}
      </span>
      <span class="mono" title={dag.timetable_description ?? undefined}>
        {dag.timetable_summary ?? "None"}
      </span>
      <span>{formatTime(nextRun(dag))}</span>
      <span>
        <RunSquares dagId={dag.dag_id} runs={runs} />
      </span>
      <span>
        {canTrigger ? (
          <button type="button" class="icon" aria-label={`Trigger ${dag.dag_id}`} title="Trigger" data-trigger={dag.dag_id}>
            ▶
          </button>
        ) : null}
      </span>
    </div>
  );
});

/** When the next scheduled run is due: Airflow's run_after, else the logical date it will have. */
export const nextRun = (dag: Dag): string | null => dag.next_dagrun_run_after ?? dag.next_dagrun_logical_date ?? null;

/** Ten fixed squares, oldest left; empty slots keep their place so rows never shift. */
function RunSquares({ dagId, runs }: { dagId: string; runs: DagRun[] | undefined }) {
  const shown = (runs ?? []).slice(0, RECENT_RUNS).reverse();
  const slots = Array.from({ length: RECENT_RUNS }, (_, i) => shown[i - (RECENT_RUNS - shown.length)]);
  return (
    <span class="squares">
      {slots.map((r, i) =>
        r ? (
          // biome-ignore lint/a11y/useAnchorContent: a fixed-size colour square; aria-label names it (run, state)
          <a
            key={r.dag_run_id}
            href={dagHref(dagId, { runId: r.dag_run_id })}
            data-nav=""
            class="sq"
            data-state={r.state}
            style={{ background: stateColor(r.state) ?? undefined }}
            title={`${r.dag_run_id}: ${stateLabel(r.state)}`}
            aria-label={`run ${r.dag_run_id} ${stateLabel(r.state)}`}
          />
        ) : (
          <span key={`empty-${String(i)}`} class="sq empty" />
        ),
      )}
    </span>
  );
}
