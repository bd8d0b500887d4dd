/** Command-line tools beyond serve and agent (each loaded only by the command that runs it). */
export { secretsCommand, SECRETS_USAGE, UsageError, type CliIo } from "./secrets";
export { usersCommand, USERS_USAGE, type UsersIo } from "./users";
