/** The DAGs folder: loading dag.json / dag.yaml / SDK files, syncing them into the store, running `ts` tasks. */
export { loadDagFile, isDagFile, importDagModule, type LoadResult, type LoadError, type LoadedDag } from "./loader";
export { DagFolderSync, type DagFolderSyncOptions, type SyncReport } from "./folder-sync";
export { validatePath } from "./validate";
export { runTsTask, xcomEnvName, buildContext } from "./run-ts";
export { registerSdkPlugin } from "./ts-plugin";
export { listDagFiles, type ScannedFile } from "./scan";
