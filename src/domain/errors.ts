/**
 * Errors every layer understands. The API maps them to HTTP statuses (404, 409, 400/422), the CLI to exit
 * codes; a message always says what is wrong, where, and how to fix it.
 */

export class LeoflowError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
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
  ) {
    super(message);
  }
}

/** A state change the state machine forbids. Never swallowed: it is a bug or a lost race surfaced. */
export class IllegalTransitionError extends LeoflowError {
  constructor(
    readonly from: string,
    readonly to: string,
    what = "task instance",
  ) {
    super(`illegal ${what} transition ${from} -> ${to}`);
  }
}

/** A value larger than the configured limit (XCom, log line batch). */
export class TooLargeError extends LeoflowError {}
