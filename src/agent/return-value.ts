/**
 * The task's return value: JSON the user process writes to $LEOFLOW_RETURN_VALUE_PATH. Each agent gets its own
 * temp dir, so concurrent tasks and different users never share (or clobber) one file.
 */
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LeoflowError, errorMessage } from "../domain/errors"; // not the index: keeps agent start-up light

export class ReturnValueError extends LeoflowError {}

export async function newReturnValuePath(): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "leoflow-rv-"));
  return { path: join(dir, "return_value.json"), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/**
 * `{ ok: false }` when nothing was written (absent or empty file), else the value as compact JSON. Read
 * synchronously: it is on a chain's hop (between the user process's exit and the report), and most tries
 * write none, which a sync call answers in microseconds where the async one waits for a pool thread.
 */
export async function readReturnValue(path: string): Promise<{ ok: false } | { ok: true; json: string }> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { ok: false };
    throw new ReturnValueError(`cannot read the return value in $LEOFLOW_RETURN_VALUE_PATH (${path}): ${errorMessage(e)}`);
  }
  if (text.trim() === "") return { ok: false };
  try {
    return { ok: true, json: JSON.stringify(JSON.parse(text)) };
  } catch (e) {
    throw new ReturnValueError(
      `return value in $LEOFLOW_RETURN_VALUE_PATH is not valid JSON: ${errorMessage(e)}; write JSON, e.g. echo '{"rows": 1}' > "$LEOFLOW_RETURN_VALUE_PATH"`,
    );
  }
}
