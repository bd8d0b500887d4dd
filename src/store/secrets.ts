/**
 * Secrets at rest: connection passwords and extras, and variables whose key names a secret (or that their
 * writer flags), are sealed with the server's SecretsCipher on the way into the store and opened on the way
 * out. Everyone above the store (API, agent RPC, inline runner, templates) keeps seeing plain text.
 *
 * Why a decorator over the Store, not code in each store: both backends then share one implementation, and
 * pass one contract suite in which they stay dumb (a store keeps text and Airflow's is_encrypted flags as
 * given); the only store-level additions are those columns and `rewriteSecrets`, the transactional batch the
 * rotation needs. The cipher never reaches SQL, so a key mistake cannot differ between SQLite and Postgres.
 * Like withStoreEvents, it wraps the store once, in app.ts, so no reader or writer can forget it. The flag
 * columns, not the look of a value, say what is encrypted: a plain value that happens to start with "lf1:"
 * stays plain.
 *
 * @example const store = withSecrets(openStore(cfg.db), cipher);
 */
import { DEFAULT_TEAM, isSensitiveName, type BulkAction, type ConnectionRecord, type Page, type VariableRecord } from "../domain";
import { overriding } from "./decorate";
import type { SecretsCipher } from "./secrets-cipher";
import type { Store } from "./store";
import { webhookSecretOverrides } from "./webhook-secrets";

/**
 * What each sealed value is bound to (AES-GCM associated data): its team, table, row and field, so a value
 * copied into another team's row (same key) does not open there. The team `default` keeps the names it had
 * before teams existed, so values sealed then still open without a rewrite; other teams' names start with
 * `team/`, which no default-team name does.
 */
const teamPrefix = (team: string) => (team === DEFAULT_TEAM ? "" : `team/${team}/`);
export const variableAad = (team: string, key: string) => `${teamPrefix(team)}variable/${key}`;
export const connectionAad = (team: string, id: string, field: "password" | "extra") => `${teamPrefix(team)}connection/${id}/${field}`;

/** A variable is stored encrypted when its key names a secret (Airflow's list) or its writer flags it. */
export function variableIsSecret(v: VariableRecord): boolean {
  return isSensitiveName(v.key) || v.is_encrypted === true;
}

/** The stored form of a team's variable. */
export function sealVariable(team: string, v: VariableRecord, cipher: SecretsCipher): VariableRecord {
  const secret = variableIsSecret(v);
  const value = secret ? cipher.encrypt(v.value, variableAad(team, v.key)) : v.value;
  return { key: v.key, value, description: v.description ?? null, is_encrypted: secret };
}

/** A stored variable as callers see it: plain text; rows written before encryption existed read as they are. */
export function openVariable(team: string, stored: VariableRecord, cipher: SecretsCipher): VariableRecord {
  if (!stored.is_encrypted) return { ...stored, is_encrypted: false };
  return { ...stored, value: cipher.decrypt(stored.value, variableAad(team, stored.key), `variable ${stored.key}${ofTeam(team)}`) };
}

/** The stored form of a team's connection: password and extra sealed whenever set. */
export function sealConnection(team: string, c: ConnectionRecord, cipher: SecretsCipher): ConnectionRecord {
  const seal = (text: string | null | undefined, field: "password" | "extra") =>
    text == null ? null : cipher.encrypt(text, connectionAad(team, c.connection_id, field));
  const [password, extra] = [seal(c.password, "password"), seal(c.extra, "extra")];
  return { ...c, password, extra, is_encrypted: password !== null, is_extra_encrypted: extra !== null };
}

/** A stored connection as callers see it; rows written before encryption existed read as they are. */
export function openConnection(team: string, stored: ConnectionRecord, cipher: SecretsCipher): ConnectionRecord {
  const open = (text: string | null, sealed: boolean | undefined, field: "password" | "extra") =>
    text != null && sealed
      ? cipher.decrypt(
          text,
          connectionAad(team, stored.connection_id, field),
          `connection ${stored.connection_id}${ofTeam(team)} (${field})`,
        )
      : text;
  return {
    ...stored,
    password: open(stored.password, stored.is_encrypted, "password"),
    extra: open(stored.extra, stored.is_extra_encrypted, "extra"),
    is_encrypted: stored.is_encrypted ?? false,
    is_extra_encrypted: stored.is_extra_encrypted ?? false,
  };
}

/** How an error names a row's team: nothing for `default`, so single-team installs read as before. */
export const ofTeam = (team: string) => (team === DEFAULT_TEAM ? "" : ` of team ${team}`);

/** Bulk actions with every created or updated entity sealed (deletes carry only keys). */
const sealBulk = <T>(actions: BulkAction<T>[], seal: (e: T) => T): BulkAction<T>[] =>
  actions.map((a) => (a.action === "delete" ? a : { ...a, entities: a.entities.map(seal) }));

const openPage = <T>(page: Page<T>, open: (row: T) => T): Page<T> => ({ items: page.items.map(open), total: page.total });

/** The store, with secrets sealed on write and opened on read (see the module comment). */
export function withSecrets(store: Store, cipher: SecretsCipher): Store {
  const overrides: Partial<Store> = {
    async getVariable(team, key) {
      const v = await store.getVariable(team, key);
      return v && openVariable(team, v, cipher);
    },
    async putVariable(team, v, now, opts) {
      const stored = await store.putVariable(team, sealVariable(team, v, cipher), now, opts);
      return { ...stored, value: v.value };
    },
    async listVariables(team, opts) {
      return openPage(await store.listVariables(team, opts), (v) => openVariable(team, v, cipher));
    },
    async getConnection(team, id) {
      const c = await store.getConnection(team, id);
      return c && openConnection(team, c, cipher);
    },
    async putConnection(team, c, now, opts) {
      const stored = await store.putConnection(team, sealConnection(team, c, cipher), now, opts);
      return { ...stored, password: c.password ?? null, extra: c.extra ?? null };
    },
    async listConnections(team, opts) {
      return openPage(await store.listConnections(team, opts), (c) => openConnection(team, c, cipher));
    },
    async bulkVariables(team, actions, now) {
      return store.bulkVariables(
        team,
        sealBulk(actions, (v) => sealVariable(team, v, cipher)),
        now,
      );
    },
    async bulkConnections(team, actions, now) {
      return store.bulkConnections(
        team,
        sealBulk(actions, (c) => sealConnection(team, c, cipher)),
        now,
      );
    },
    ...webhookSecretOverrides(store, cipher),
  };
  return overriding(store, overrides);
}
