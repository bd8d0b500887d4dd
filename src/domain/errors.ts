/**
 * Errors every layer understands. The API maps them to HTTP statuses (404, 409, 400/422), the CLI to exit
 * codes; a message always says what is wrong, where, and how to fix it. Every error class in src extends
 * LeoflowError, and any of them can carry the error that caused it (`{ cause }`, ES2022).
 *
 * @example
 * try { … } catch (e) { throw new LeoflowError(`reading ${file} failed: ${errorMessage(e)}`, { cause: e }); }
 */

export class LeoflowError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Whatever was thrown, as an Error: itself when it is one, else an Error saying what it was (a thrown
 * string, a rejected plain value), so callers need no `e as Error` cast that lies about the rest.
 *
 * @example toError("boom").message // "boom"
 */
export function toError(e: unknown): Error {
  if (e instanceof Error) return e;
  return new LeoflowError(describeThrown(e), { cause: e });
}

/** The message of whatever was thrown. @example errorMessage(new Error("x")) // "x"; errorMessage(42) // "42" */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : describeThrown(e);
}

function describeThrown(e: unknown): string {
  if (typeof e === "string") return e;
  if (e && typeof e === "object") {
    try {
      return JSON.stringify(e);
    } catch {
      // a cycle or a BigInt: fall back to String()
    }
  }
  return String(e);
}

/** A thing that was asked for does not exist (HTTP 404). */
export class NotFoundError extends LeoflowError {}

/** The request conflicts with current state, e.g. a duplicate run id (HTTP 409). */
export class ConflictError extends LeoflowError {}

/** Input failed validation; `issues` carries field paths (HTTP 400 or 422). */
export class ValidationError extends LeoflowError {
  constructor(
    message: string,
    readonly issues: { path: string; message: string }[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A state change the state machine forbids. Never swallowed: it is a bug or a lost race surfaced. */
export class IllegalTransitionError extends LeoflowError {
  constructor(
    readonly from: string,
    readonly to: string,
    what = "task instance",
    options?: ErrorOptions,
  ) {
    super(`illegal ${what} transition ${from} -> ${to}`, options);
  }
}

/** A value larger than the configured limit (XCom, log line batch). */
export class TooLargeError extends LeoflowError {}
