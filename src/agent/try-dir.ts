/**
 * A try's private temp folder: the return value's file and `bin/leoflow` (the shim the task finds first on
 * PATH). A warm agent makes the next try's folder while it waits for that try, so a try starts without
 * these file system calls (~0.8 ms of a chain's hop); an agent that exits removes the one it did not use.
 */
import { dirname, join } from "node:path";
import { writeLeoflowShim } from "./leoflow-shim";
import { newReturnValuePath } from "./return-value";

export interface TryDir {
  /** The folder itself (the try's token and mask files go here too). */
  path: string;
  returnValuePath: string;
  /** Holds `leoflow`: put first on the task's PATH. */
  binDir: string;
  cleanup(): Promise<void>;
}

export async function makeTryDir(): Promise<TryDir> {
  const rv = await newReturnValuePath();
  const path = dirname(rv.path);
  try {
    return { path, returnValuePath: rv.path, binDir: await writeLeoflowShim(join(path, "bin")), cleanup: rv.cleanup };
  } catch (e) {
    await rv.cleanup().catch(() => {});
    throw e;
  }
}
