/** Command-line tools beyond serve and agent (each loaded only by the command that runs it). */
export { secretsCommand, SECRETS_USAGE, UsageError, type CliIo } from "./secrets";
export { usersCommand, USERS_USAGE, type UsersIo } from "./users";
export { teamsCommand, TEAMS_USAGE } from "./teams";
export { configCommand, CONFIG_USAGE } from "./config-show";
export { dbBackupCommand, DB_BACKUP_USAGE } from "./db-backup";
export { installCommand, INSTALL_USAGE } from "./install";
export { serveStore } from "./open-store";
