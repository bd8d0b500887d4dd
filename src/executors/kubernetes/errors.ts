/** KubeError: a Kubernetes API call that failed, with the HTTP status (0 when the server did not answer). Kept apart from client.ts so code that only names it does not load @kubernetes/client-node. */
import { LeoflowError } from "../../domain";

export class KubeError extends LeoflowError {
  constructor(
    message: string,
    /** HTTP status of the API server's answer; 0 when it did not answer. */
    readonly status: number,
  ) {
    super(message);
  }
}
