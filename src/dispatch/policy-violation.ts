/**
 * A try its team's executor policy forbids (executor, image, CPU, memory): nothing is launched, and no
 * launch retry or task retry can change that, so the retry policy fails the try at once with `note`.
 */
import { LeoflowError } from "../domain";

export class ExecutorPolicyViolation extends LeoflowError {
  /** The task instance's note: why it did not run. */
  readonly note: string;

  constructor(
    readonly team: string,
    readonly violations: string[],
  ) {
    super(`the executor policy of team ${team} forbids this try: ${violations.join("; ")}`);
    this.note = `executor_policy: ${violations.join("; ")}`;
  }
}
