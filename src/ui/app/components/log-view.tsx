/** @jsxImportSource preact */
/**
 * A task try's log that follows the task while it runs: polls the logs API with its continuation token
 * (only new lines come back) every second while the try is live, and sticks to the bottom unless the user
 * scrolled up.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { api, seg } from "../api";
import { ErrorBox } from "./common";

interface Line {
  timestamp: string | null;
  event: string;
  stream: string;
}

const POLL_MS = 1000;
const MAX_LINES = 20_000;

export function LogView(props: { dagId: string; runId: string; taskId: string; mapIndex?: number; tryNumber: number; live: boolean }) {
  const [lines, setLines] = useState<Line[]>([]);
  const [error, setError] = useState<unknown>(null);
  const box = useRef<HTMLPreElement>(null);
  const stick = useRef(true);
  const live = useRef(props.live);
  live.current = props.live;
  /** Told when the try's liveness changes: polling starts again, or reads once more for the try's last lines. */
  const nudge = useRef<() => void>(() => {});

  // One log per try: a change of liveness does not start it over (the lines shown stay, the token goes on).
  useEffect(() => {
    setLines([]);
    setError(null);
    stick.current = true;
    const ctl = new AbortController();
    let token: string | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let stopped = false;
    // One more read after the try stopped being live: a read in flight then may predate its last lines.
    let once = false;
    const path = `/dags/${seg(props.dagId)}/dagRuns/${seg(props.runId)}/taskInstances/${seg(props.taskId)}/logs/${props.tryNumber}`;
    const poll = async () => {
      try {
        // Read until a page comes back short, so a long log arrives whole before the UI settles.
        for (;;) {
          const q = `${token ? `?token=${token}&limit=5000` : "?limit=5000"}${props.mapIndex === undefined ? "" : `&map_index=${props.mapIndex}`}`;
          const r = await api<{ content: Line[]; continuation_token: string | null }>("GET", `${path}${q}`, undefined, ctl.signal);
          if (r.continuation_token) token = r.continuation_token;
          if (r.content.length) setLines((old) => old.concat(r.content).slice(-MAX_LINES));
          if (r.content.length < 5000) break;
        }
        setError(null);
      } catch (e) {
        if (ctl.signal.aborted) return;
        setError(e);
      }
      if (ctl.signal.aborted) return;
      if (live.current) timer = setTimeout(poll, POLL_MS);
      else if (once) {
        once = false;
        timer = setTimeout(poll, 0);
      } else stopped = true;
    };
    nudge.current = () => {
      if (ctl.signal.aborted) return;
      if (!live.current) once = true;
      if (!stopped) return;
      stopped = false;
      once = false;
      void poll();
    };
    void poll();
    return () => {
      ctl.abort();
      if (timer) clearTimeout(timer);
    };
  }, [props.dagId, props.runId, props.taskId, props.mapIndex, props.tryNumber]);

  const first = useRef(true);
  useEffect(() => {
    if (first.current) first.current = false;
    else nudge.current();
  }, [props.live]);

  useEffect(() => {
    const el = box.current;
    if (el && stick.current) el.scrollTop = el.scrollHeight;
  }, [lines]);

  return (
    <div class="log">
      <div class="log-head">
        <span>
          Log of try {props.tryNumber} · {lines.length} line{lines.length === 1 ? "" : "s"}
        </span>
        {props.live ? <span class="following">following</span> : null}
      </div>
      <ErrorBox error={error} title="Could not read the log" />

      <pre
        ref={box}
        class="log-body"
        role="log"
        aria-label="Task log"
        aria-live="off"
        data-testid="log"
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {lines.length === 0 ? <span class="muted">{props.live ? "Waiting for the first line…" : "No log lines."}</span> : null}
        {lines.map((l, i) => (
          <div key={String(i)} class={l.stream === "stderr" ? "err" : ""}>
            <span class="ts">{l.timestamp ? l.timestamp.slice(11, 23) : ""}</span> <span>{l.event}</span>
          </div>
        ))}
      </pre>
    </div>
  );
}
