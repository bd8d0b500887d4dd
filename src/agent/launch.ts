/**
 * What a server needs of the agent to launch one (app.ts, the subprocess executor): the command that runs this
 * binary, the assignment and control-line formats, the venv settings variable. A second entry beside the
 * index, which brings the whole agent (its runner, warm loop, RPC client and task CLI): evaluating that cost a
 * server ~1 ms of its start before /health (test/architecture/startup-graph.test.ts).
 */
export { selfCommand, isCompiledBinary, mainScriptPath } from "./self-command";
export {
  formatAssignment,
  formatReportAnswer,
  parseAssignment,
  type Assignment,
  type ReportAnswer,
  type ReportResult,
} from "./assignment";
export { formatControlLine, parseControlLine, type ControlMessage } from "./control-line";
export { LineSplitter, MAX_LINE_BYTES } from "./line-splitter";
export { VENV_SETTINGS_ENV } from "./python-venv";
