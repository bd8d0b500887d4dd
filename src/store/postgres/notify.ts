/**
 * A Postgres LISTEN/NOTIFY channel on its own single-connection client: a NOTIFY never waits behind store
 * queries, and LISTEN keeps a dedicated session. The wake bus and the event notifier (events/) send their
 * payloads through one each; what a payload means is theirs, this file is only the SQL and the session.
 *
 * @example
 * const ch = new PgNotifyChannel({ url, channel: "leoflow_wake", applicationName: "leoflow-wake" });
 * await ch.listen((payload) => handle(payload), () => sweepEverything());
 * await ch.notify(["abc:42", "abc:43"]); // one statement, one NOTIFY per payload
 */
import type postgres from "postgres";
import { postgresDriver } from "./driver";

export interface NotifyChannel {
  /**
   * Starts listening. `onConnect` runs on every (re)connect of the listening session: notifications sent
   * while it was down are lost, so the caller catches up there.
   */
  listen(onPayload: (payload: string) => void, onConnect: () => void): Promise<void>;
  /** Sends one NOTIFY per payload, all in one statement (payloads are limited to 8000 bytes each). */
  notify(payloads: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

export interface PgNotifyChannelOptions {
  url: string;
  channel: string;
  /** Shown in pg_stat_activity. */
  applicationName: string;
}

export class PgNotifyChannel implements NotifyChannel {
  private readonly sql: postgres.Sql;
  private listening: { unlisten(): Promise<void> } | null = null;

  constructor(private readonly opts: PgNotifyChannelOptions) {
    this.sql = postgresDriver()(opts.url, {
      max: 1,
      // No arrays go through this session (the payloads go as one JSON text), so it skips the driver's read of
      // the catalogue's array types on connect (~20 ms of Postgres time).
      fetch_types: false,
      onnotice: () => {},
      connection: { application_name: opts.applicationName },
    });
  }

  async listen(onPayload: (payload: string) => void, onConnect: () => void): Promise<void> {
    this.listening = await this.sql.listen(this.opts.channel, onPayload, onConnect);
  }

  async notify(payloads: readonly string[]): Promise<void> {
    await this.sql`select pg_notify(${this.opts.channel}, p) from json_array_elements_text(${JSON.stringify(payloads)}::text::json) as p`;
  }

  async close(): Promise<void> {
    await this.listening?.unlisten().catch(() => {});
    await this.sql.end({ timeout: 2 });
  }
}
