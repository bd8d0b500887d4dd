/** Users, roles, passwords, user JWTs, agent tokens, signing keys and the key that encrypts secrets at rest. */
export { AgentTokenError, AgentTokens, type AgentIdentity, type VerifiedAgentToken } from "./agent-token";
export { UserTokenError, UserTokens, USER_TOKEN_TTL_SECONDS, type UserClaims } from "./user-tokens";
export {
  ROLES,
  ROLE_NAMES,
  ROLE_CHOICES,
  ROLE_PERMISSIONS,
  hasPermission,
  leastRoleWith,
  parseRole,
  type Role,
  type Permission,
} from "./roles";
export {
  UserError,
  createUser,
  updateUser,
  deleteUser,
  toUserView,
  viewUser,
  setRole,
  type RoleGrant,
  checkUsername,
  checkPassword,
  checkRole,
  MIN_PASSWORD_LENGTH,
  type UserView,
  type UserErrorKind,
} from "./users";
export { signingKeys, parsePreviousSecrets, type SigningKeys } from "./signing-keys";
export { hashPassword, verifyPassword, authenticate, generatePassword } from "./passwords";
export { ensureAdminUser, announceAdmin, type EnsureAdminResult, type AdminAnnouncer } from "./admin";
export { loadSecretsCipher, readKeyFile, warnOfForeignSecrets, SECRETS_KEY_FILE, type SecretsKeySource } from "./secrets-key";
export { loadSigningSecret, type SigningSecretSource } from "./signing-secret";
export {
  admitSigningSecret,
  checkSigningFingerprint,
  signingFingerprintOf,
  type FingerprintCheck,
} from "./signing-fingerprint";
