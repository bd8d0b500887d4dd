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
import { isSensitiveName, type BulkAction, type ConnectionRecord, type Page, type VariableRecord } from "../domain";
import { overriding } from "./decorate";
import type { SecretsCipher } from "./secrets-cipher";
import type { Store } from "./store";

/** What each sealed value is bound to (AES-GCM associated data): its table, row and field. */
export const variableAad = (key: string) => `variable/${key}`;
export const connectionAad = (id: string, field: "password" | "extra") => `connection/${id}/${field}`;

/** A variable is stored encrypted when its key names a secret (Airflow's list) or its writer flags it. */
export function variableIsSecret(v: VariableRecord): boolean {
  return isSensitiveName(v.key) || v.is_encrypted === true;
}

/** The stored form of a variable. */
export function sealVariable(v: VariableRecord, cipher: SecretsCipher): VariableRecord {
  const secret = variableIsSecret(v);
  const value = secret ? cipher.encrypt(v.value, variableAad(v.key)) : v.value;
  return { key: v.key, value, description: v.description ?? null, is_encrypted: secret };
}

/** A stored variable as callers see it: plain text; rows written before encryption existed read as they are. */
export function openVariable(stored: VariableRecord, cipher: SecretsCipher): VariableRecord {
  if (!stored.is_encrypted) return { ...stored, is_encrypted: false };
  return { ...stored, value: cipher.decrypt(stored.value, variableAad(stored.key), `variable ${stored.key}`) };
}

/** The stored form of a connection: password and extra sealed whenever set. */
export function sealConnection(c: ConnectionRecord, cipher: SecretsCipher): ConnectionRecord {
  const seal = (text: string | null | undefined, field: "password" | "extra") =>
    text == null ? null : cipher.encrypt(text, connectionAad(c.connection_id, field));
  const [password, extra] = [seal(c.password, "password"), seal(c.extra, "extra")];
  return { ...c, password, extra, is_encrypted: password !== null, is_extra_encrypted: extra !== null };
}

/** A stored connection as callers see it; rows written before encryption existed read as they are. */
export function openConnection(stored: ConnectionRecord, cipher: SecretsCipher): ConnectionRecord {
  const open = (text: string | null, sealed: boolean | undefined, field: "password" | "extra") =>
    text != null && sealed
      ? cipher.decrypt(text, connectionAad(stored.connection_id, field), `connection ${stored.connection_id} (${field})`)
      : text;
  return {
    ...stored,
    password: open(stored.password, stored.is_encrypted, "password"),
    extra: open(stored.extra, stored.is_extra_encrypted, "extra"),
    is_encrypted: stored.is_encrypted ?? false,
    is_extra_encrypted: stored.is_extra_encrypted ?? false,
  };
}

/** Bulk actions with every created or updated entity sealed (deletes carry only keys). */
const sealBulk = <T>(actions: BulkAction<T>[], seal: (e: T) => T): BulkAction<T>[] =>
  actions.map((a) => (a.action === "delete" ? a : { ...a, entities: a.entities.map(seal) }));

const openPage = <T>(page: Page<T>, open: (row: T) => T): Page<T> => ({ items: page.items.map(open), total: page.total });

/** The store, with secrets sealed on write and opened on read (see the module comment). */
export function withSecrets(store: Store, cipher: SecretsCipher): Store {
  const overrides: Partial<Store> = {
    async getVariable(key) {
      const v = await store.getVariable(key);
      return v && openVariable(v, cipher);
    },
    async putVariable(v, now, opts) {
      const stored = await store.putVariable(sealVariable(v, cipher), now, opts);
      return { ...stored, value: v.value };
    },
    async listVariables(opts) {
      return openPage(await store.listVariables(opts), (v) => openVariable(v, cipher));
    },
    async getConnection(id) {
      const c = await store.getConnection(id);
      return c && openConnection(c, cipher);
    },
    async putConnection(c, now, opts) {
      const stored = await store.putConnection(sealConnection(c, cipher), now, opts);
      return { ...stored, password: c.password ?? null, extra: c.extra ?? null };
    },
    async listConnections(opts) {
      return openPage(await store.listConnections(opts), (c) => openConnection(c, cipher));
    },
    async bulkVariables(actions, now) {
      return store.bulkVariables(
        sealBulk(actions, (v) => sealVariable(v, cipher)),
        now,
      );
    },
    async bulkConnections(actions, now) {
      return store.bulkConnections(
        sealBulk(actions, (c) => sealConnection(c, cipher)),
        now,
      );
    },
  };
  return overriding(store, overrides);
}
