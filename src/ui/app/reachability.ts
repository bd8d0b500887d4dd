/**
 * Whether the server answers at all, as the app's own requests find out: a request that gets no answer (connection
 * refused, network down: fetch rejects) marks it unreachable, any answer marks it reachable again. The health
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

/** fetch(), noting whether the server answered; a request aborted by its caller rethrows as it was. */
export async function fetchNoting(input: string, init: RequestInit = {}): Promise<Response> {
  try {
    const res = await fetch(input, init);
    noteAnswer();
    return res;
  } catch (e) {
    if (init.signal?.aborted || (e as Error)?.name === "AbortError") throw e;
    noteNoAnswer();
    throw new NoAnswerError(e);
  }
}
