/** Users, roles, passwords, user JWTs, agent tokens and the key that encrypts secrets at rest. */
export * from "./agent-token";
export * from "./user-tokens";
export * from "./passwords";
export * from "./admin";
export * from "./secrets-key";
