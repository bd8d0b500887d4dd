/**
 * The zod half of the domain: the DAG schema and its parser, the callback and team schemas. A separate entry
 * from ./index so that the server's start-up path (nearly every module on it imports the domain index) does
 * not evaluate zod, ~9 ms of a compiled server's start (test/architecture/startup-graph.test.ts). The DAG
 * loader and parse worker, the SDK, the API and the CLI import it.
 */
export { parseDagSpec, RawTaskSchema, RawDagSchema } from "./dag-spec";
export { ExecutorPolicySchema, QuotaSchema, TeamFieldsSchema, parseExecutorPolicy } from "./team-input";
export { CallbackSchema, CallbacksSchema, DeadlineSchema } from "./callback-spec";
