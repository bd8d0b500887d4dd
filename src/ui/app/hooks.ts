/** Small hooks the pages share: async loads, the route, the session, intervals, live events. */
import { useEffect, useRef, useState } from "preact/hooks";
import { getSession, onSessionChange, type Session } from "./session";
import { isUnreachable, NoAnswerError, onReachabilityChange } from "./reachability";
import { onNavigate, parseRoute, type Route } from "./router";
import { onEvent, onResync, type LeoflowEvent } from "./sse";

export interface Async<T> {
  data: T | undefined;
  error: Error | null;
  loading: boolean;
  reload: () => void;
}

/** Runs `load` when `deps` change (aborting the previous one); `reload()` runs it again and keeps the old data meanwhile. */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): Async<T> {
  const [state, setState] = useState<{ data: T | undefined; error: Error | null; loading: boolean }>({
    data: undefined,
    error: null,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const depsKey = JSON.stringify(deps);
  const lastKey = useRef(depsKey);
  useEffect(() => {
    const ctl = new AbortController();
    const keep = lastKey.current === depsKey;
    lastKey.current = depsKey;
    setState((s) => ({ data: keep ? s.data : undefined, error: null, loading: true }));
    load(ctl.signal).then(
      (data) => !ctl.signal.aborted && setState({ data, error: null, loading: false }),
      (error) => !ctl.signal.aborted && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => ctl.abort();
  }, [depsKey, tick]);
  useRetryOnAnswer(state.error, () => setTick((t) => t + 1));
  return { ...state, reload: () => setTick((t) => t + 1) };
}

/**
 * A load that got no answer (the server stopped or restarting: `error` is a NoAnswerError) is `retry`d once the
 * server answers again (the event stream's reconnects find that out), so a page opened during an outage fills in
 * without a reload.
 */
export function useRetryOnAnswer(error: Error | null, retry: () => void): void {
  const saved = useRef(retry);
  saved.current = retry;
  const noAnswer = error instanceof NoAnswerError;
  useEffect(() => {
    if (!noAnswer) return;
    return onReachabilityChange(() => {
      if (!isUnreachable()) saved.current();
    });
  }, [noAnswer]);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.pathname, location.search));
  useEffect(() => onNavigate(() => setRoute(parseRoute(location.pathname, location.search))), []);
  return route;
}

export function useSession(): Session | null {
  const [s, setS] = useState(getSession);
  useEffect(() => onSessionChange(() => setS(getSession())), []);
  return s;
}

export function useInterval(fn: () => void, ms: number | null): void {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    if (ms === null) return;
    const id = setInterval(() => saved.current(), ms);
    return () => clearInterval(id);
  }, [ms]);
}

/**
 * Calls `fn` for each live event that `match` accepts (the latest `fn`, without resubscribing), and with no
 * event each time the stream connects or the server drops events: what changed before it connected (or what
 * was dropped) sent this view no event, so `fn` (a reload) catches up.
 */
export function useEvents(match: (e: LeoflowEvent) => boolean, fn: (e?: LeoflowEvent) => void, deps: unknown[]): void {
  const saved = useRef({ match, fn });
  saved.current = { match, fn };
  useEffect(() => {
    const offEvents = onEvent((e) => {
      if (saved.current.match(e)) saved.current.fn(e);
    });
    const offResync = onResync(() => saved.current.fn());
    return () => {
      offEvents();
      offResync();
    };
  }, deps);
}

/** A callback that runs at most once per `ms`, trailing (many events in a burst → one reload). */
export function useThrottled(fn: () => void, ms: number): () => void {
  const saved = useRef(fn);
  saved.current = fn;
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => void (timer.current && clearTimeout(timer.current)), []);
  return () => {
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      saved.current();
    }, ms);
  };
}
