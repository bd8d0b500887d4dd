/** @jsxImportSource preact */
/**
 * A task try's log that follows the task while it runs: polls the logs API with its continuation token
 * (only new lines come back) every second while the try is live, and sticks to the bottom unless the user
 * scrolled up. It keeps the last MAX_LINES lines and says so when the log is longer, with a button that downloads the
 * whole log as text (the API's text/plain form, read with the app's auth: a plain link could not send it).
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { API, api, authHeaders, seg } from "../api";
import { getSession, setSession } from "../session";
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
  /** Every line read, those no longer kept included. */
  const [total, setTotal] = useState(0);
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
    setTotal(0);
    setError(null);
    stick.current = true;
    const ctl = new AbortController();
    let token: string | null = null;
    let timer: ReturnType<typeof setTimeout> | null = null;
    let stopped = false;
    // One more read after the try stopped being live: a read in flight then may predate its last lines.
    let once = false;
    const path = logPath(props);
    const poll = async () => {
      try {
        // Read until a page comes back short, so a long log arrives whole before the UI settles.
        for (;;) {
          const q = `${token ? `?token=${token}&limit=5000` : "?limit=5000"}${props.mapIndex === undefined ? "" : `&map_index=${props.mapIndex}`}`;
          const r = await api<{ content: Line[]; continuation_token: string | null }>("GET", `${path}${q}`, undefined, ctl.signal);
          if (r.continuation_token) token = r.continuation_token;
          if (r.content.length) {
            setLines((old) => old.concat(r.content).slice(-MAX_LINES));
            setTotal((n) => n + r.content.length);
          }
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

  const cut = total - lines.length;
  return (
    <div class="log">
      <div class="log-head">
        <span>
          Log of try {props.tryNumber} · {count(total)} line{total === 1 ? "" : "s"}
        </span>
        {props.live ? <span class="following">following</span> : null}
        <span class="spacer" />
        {total ? <DownloadLog {...props} /> : null}
      </div>
      {cut > 0 ? (
        <p class="notice warn log-cut">
          Showing the last {count(lines.length)} of {count(total)} lines: the first {count(cut)} are not shown here. Download the whole log
          to read them.
        </p>
      ) : null}
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

type LogProps = Parameters<typeof LogView>[0];

/** The try's log in the API (GET …/logs/{try}; a mapped instance's by its map_index). */
const logPath = (p: LogProps) => `/dags/${seg(p.dagId)}/dagRuns/${seg(p.runId)}/taskInstances/${seg(p.taskId)}/logs/${p.tryNumber}`;

const count = (n: number) => n.toLocaleString("en-US");

/**
 * Saves the whole log as a text file: the API's text/plain form (every line, as Airflow 3 answers it), fetched with the
 * app's auth headers, since a link cannot carry the session's token.
 */
function DownloadLog(props: LogProps) {
  const [state, setState] = useState<"idle" | "busy" | "failed">("idle");
  const download = async () => {
    setState("busy");
    try {
      const q = props.mapIndex === undefined ? "" : `?map_index=${props.mapIndex}`;
      const res = await fetch(`${API}${logPath(props)}${q}`, { headers: { ...authHeaders(), accept: "text/plain" } });
      if (res.status === 401 && getSession()) setSession(null);
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement("a");
      a.href = url;
      a.download =
        `${[props.dagId, props.runId, props.taskId, props.mapIndex ?? ""].filter((x) => x !== "").join("__")}__try-${props.tryNumber}.log`.replace(
          /[\\/:*?"<>|]+/g,
          "_",
        );
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setState("idle");
    } catch {
      setState("failed");
    }
  };
  return (
    <button type="button" class="link" onClick={download} disabled={state === "busy"}>
      {state === "busy" ? "Downloading…" : state === "failed" ? "Download failed: try again" : "Download whole log"}
    </button>
  );
}
