/** Users, roles, passwords, user JWTs, agent tokens and the key that encrypts secrets at rest. */
export { AgentTokenError, AgentTokens, type AgentIdentity, type VerifiedAgentToken } from "./agent-token";
export { UserTokenError, UserTokens, type Role, type UserClaims } from "./user-tokens";
export { hashPassword, verifyPassword, authenticate, generatePassword } from "./passwords";
export { ensureAdminUser, announceAdmin, type EnsureAdminResult, type AdminAnnouncer } from "./admin";
export { loadSecretsCipher, readKeyFile, warnOfForeignSecrets, SECRETS_KEY_FILE, type SecretsKeySource } from "./secrets-key";
export { loadSigningSecret, type SigningSecretSource } from "./signing-secret";
