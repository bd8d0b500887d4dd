/**
 * Reads of sealed secrets (connections, variables): a value the server's key cannot open is a server-side
 * configuration fault the client cannot fix, so it answers 500 — but with a `detail` that names the row and
 * the remedy (start with the key it was written with, or `leoflow secrets rotate`), never a bare "Internal
 * Server Error", never garbage, never a crash.
 */
import { SecretUnreadableError } from "../store";
import type { Logger } from "../observability";
import { ApiError } from "./errors";

export async function unsealed<T>(read: Promise<T>, logger: Logger): Promise<T> {
  try {
    return await read;
  } catch (e) {
    if (!(e instanceof SecretUnreadableError)) throw e;
    logger.error("a stored secret cannot be decrypted", { error: e.message, reason: e.reason });
    throw new ApiError(500, e.message);
  }
}
