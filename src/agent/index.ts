/** The task-side runner (`leoflow agent --server URL --token T`) and its pure helpers. */
export { runAgent, SKIP_EXIT_CODE, type RunAgentOptions } from "./runner";
export { runWarmAgent, type RunWarmAgentOptions } from "./warm";
export { formatAssignment, parseAssignment, type Assignment } from "./assignment";
export { dial, isRetryable, AgentRpcError, type AgentClient, type DialOptions, type RpcCode } from "./client";
export { backoff, MAX_ATTEMPTS } from "./backoff";
export { buildCommand, PYTHON_CALLABLE_WRAPPER } from "./command";
export { selfCommand, isCompiledBinary, mainScriptPath } from "./self-command";
export { newReturnValuePath, readReturnValue, ReturnValueError } from "./return-value";
export { xcomEnvName, xcomEnvVar, xcomEnv, XCOM_ENV_PREFIX } from "./xcom-env";
export { LineSplitter, MAX_LINE_BYTES } from "./line-splitter";
export { LogShipper, MAX_TRY_LOG_BYTES } from "./log-shipper";
export { formatControlLine, parseControlLine, type ControlMessage } from "./control-line";
export { resolveEnvFrom, EnvFromError, type ResolvedEnvFrom } from "./env-from";
export { readVariable, readConnection, MissingTaskSecretError } from "./task-secrets";
export { SecretMasker, MASKED } from "./secret-masker";
export { recordSecrets, MaskFileReader, MASK_FILE_ENV } from "./mask-file";
export { runTaskCommand, TASK_HELP, type TaskCliIo } from "./task-cli";
