/**
 * Whether the server answers at all, as the app's own requests find out: a request that gets no answer (connection
 * refused, network down: fetch rejects; behind a reverse proxy, its 502 or 504) marks it unreachable, any other answer
 * marks it reachable again. The health
 * banner says so, apart from the database being down (an answer: the API's 503).
 */

let unreachable = false;
const listeners = new Set<() => void>();

/** The request got no answer at all (not one it aborted itself). */
export function noteNoAnswer(): void {
  if (unreachable) return;
  unreachable = true;
  for (const l of listeners) l();
}

/** The server answered (any status). */
export function noteAnswer(): void {
  if (!unreachable) return;
  unreachable = false;
  for (const l of listeners) l();
}

export const isUnreachable = (): boolean => unreachable;

export function onReachabilityChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** What a request that got no answer throws: says what happened instead of the browser's "Failed to fetch". */
export class NoAnswerError extends Error {
  constructor(cause: unknown) {
    super("The Leoflow server cannot be reached (it may be stopped or restarting, or the network is down); try again in a moment", {
      cause,
    });
  }
}

/**
 * A reverse proxy's "bad gateway" and "gateway timeout": the Leoflow server never answers these itself, so they say
 * the server behind the proxy did not answer (stopped, restarting), as a refused connection does without a proxy.
 */
const GATEWAY_NO_ANSWER = new Set([502, 504]);

/** fetch(), noting whether the server answered; a request aborted by its caller rethrows as it was. */
export async function fetchNoting(input: string, init: RequestInit = {}): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(input, init);
  } catch (e) {
    if (init.signal?.aborted || (e as Error)?.name === "AbortError") throw e;
    noteNoAnswer();
    throw new NoAnswerError(e);
  }
  if (GATEWAY_NO_ANSWER.has(res.status)) {
    noteNoAnswer();
    throw new NoAnswerError(new Error(`the gateway in front of the server answered ${res.status}`));
  }
  noteAnswer();
  return res;
}
