/** The DAGs folder: loading dag.json / dag.yaml / SDK files, syncing them into the store, running `ts` tasks. */
import type * as Loader from "./loader";
import type * as ParseWorker from "./parse-worker";
import type * as RunCallback from "./run-callback";

export type { LoadResult, LoadError, LoadedDag } from "./loader";
export { isDagFile, isCodeFile } from "./file-kinds";
// The loader (YAML, the SDK), the parse worker (bun:ffi for its CPU limit) and the ts callback body run in a
// child process, `run-ts` or `dags validate`, never in the server: imported on the call, so the server's
// start-up never evaluates them (scripts/bench footprint). An import error surfaces as the call's rejection.
export const loadDagFile: typeof Loader.loadDagFile = async (...args) => (await import("./loader")).loadDagFile(...args);
export const importDagModule: typeof Loader.importDagModule = async (...args) => (await import("./loader")).importDagModule(...args);
export const runParseWorker: typeof ParseWorker.runParseWorker = async (...args) =>
  (await import("./parse-worker")).runParseWorker(...args);
export const runCallbackFunction: typeof RunCallback.runCallbackFunction = async (...args) =>
  (await import("./run-callback")).runCallbackFunction(...args);
export { DagFolderSync, type DagFolderSyncOptions, type SyncReport } from "./folder-sync";
export { TeamDagFolders, planTeamFolders, type TeamFolderPlan, type TeamFoldersConfig } from "./team-folders";
export { validatePath } from "./validate";
export { runTsTask, xcomEnvName, buildContext } from "./run-ts";
export { listDagFiles, listHelperFiles, type ScannedFile } from "./scan";
export { IsolatedDagParser, inProcessParser, type DagParser, type IsolatedParserOptions, type ParserStats } from "./isolated-parser";
export { ParseCache, parseCacheKey, helpersDigest } from "./parse-cache";
export {
  DEFAULT_PARSE_LIMITS,
  describeFailure,
  formatMemory,
  formatSeconds,
  parseWorkerEnv,
  type ParseFailure,
  type ParseLimits,
} from "./parse-policy";
