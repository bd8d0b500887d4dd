/** The DAGs folder: loading dag.json / dag.yaml / SDK files, syncing them into the store, running `ts` tasks. */
export { loadDagFile, isDagFile, isCodeFile, importDagModule, type LoadResult, type LoadError, type LoadedDag } from "./loader";
export { DagFolderSync, type DagFolderSyncOptions, type SyncReport } from "./folder-sync";
export { TeamDagFolders, planTeamFolders, type TeamFolderPlan, type TeamFoldersConfig } from "./team-folders";
export { validatePath } from "./validate";
export { runTsTask, xcomEnvName, buildContext } from "./run-ts";
export { runCallbackFunction } from "./run-callback";
export { registerSdkPlugin } from "./ts-plugin";
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
export { runParseWorker } from "./parse-worker";
