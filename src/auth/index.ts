/** Users, roles, passwords, user JWTs and agent tokens. */
export * from "./agent-token";
export * from "./user-tokens";
export * from "./passwords";
export * from "./admin";
