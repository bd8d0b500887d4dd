/**
 * The notifiers a callback may name, built from its connection (pure, apart from `sendMail`):
 * - slack: a Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat, …). Connection type `slack`;
 *   `host` is the webhook URL, or `host` its base and `password` the token path (Airflow's
 *   SlackWebhookHook habit: host https://hooks.slack.com/services, password T000/B000/XXX). Body {"text": …}.
 * - smtp: an e-mail. Connection type `smtp`: host, port (465 = implicit TLS, else plain with STARTTLS when
 *   the server offers it), login, password, extra { "from": "...", "starttls": true | false }.
 * Templates in message, subject and to are rendered like an http task's (domain/templates.ts).
 */
import { renderString, TemplateError, type CallbackSpec, type ConnectionRecord, type TemplateContext } from "../domain";
import { DEFAULT_REQUEST_TIMEOUT_SECONDS, type BuiltCall } from "../executors";

type Slack = Extract<CallbackSpec, { notifier: "slack" }>;
type Smtp = Extract<CallbackSpec, { notifier: "smtp" }>;

const ABSOLUTE = /^https?:\/\//i;

function missing(id: string, type: string, fields: string): TemplateError {
  return new TemplateError(`connection "${id}" does not exist; create it with POST /api/v2/connections (conn_type "${type}", ${fields})`);
}

export function slackCall(cb: Slack, ctx: TemplateContext, conn: ConnectionRecord | null): BuiltCall {
  if (!conn) throw missing(cb.connection_id, "slack", "host = the incoming-webhook URL");
  const host = conn.host?.trim() ?? "";
  const token = conn.password?.trim() ?? "";
  const url = ABSOLUTE.test(token)
    ? token
    : ABSOLUTE.test(host)
      ? token
        ? `${host.replace(/\/+$/, "")}/${token.replace(/^\/+/, "")}`
        : host
      : "";
  if (!url)
    throw new TemplateError(
      `connection "${cb.connection_id}" has no webhook URL: set its host to https://… (or its host to the base and its password to the token path)`,
    );
  const text = renderString(cb.message, ctx, "message");
  const safeUrl = `${new URL(url).origin}/***`;
  return {
    call: {
      method: "POST",
      url,
      safeUrl,
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text }),
      timeoutSeconds: DEFAULT_REQUEST_TIMEOUT_SECONDS,
      retries: 2,
    },
    secrets: [url, ...(token ? [token] : [])],
  };
}

export interface SmtpSettings {
  host: string;
  port: number;
  /** Implicit TLS (port 465). */
  secure: boolean;
  /** true: refuse to send without STARTTLS; false: never upgrade; undefined: upgrade when offered. */
  starttls?: boolean;
  auth?: { user: string; pass: string };
}

export interface MailMessage {
  from: string;
  to: string[];
  subject: string;
  text: string;
}

export function smtpMail(cb: Smtp, ctx: TemplateContext, conn: ConnectionRecord | null): { settings: SmtpSettings; mail: MailMessage } {
  if (!conn) throw missing(cb.connection_id, "smtp", 'host, port, login, password, extra {"from": …}');
  if (!conn.host) throw new TemplateError(`connection "${cb.connection_id}" has no host: set it to the SMTP server's name`);
  let extra: Record<string, unknown> = {};
  try {
    extra = conn.extra ? (JSON.parse(conn.extra) as Record<string, unknown>) : {};
  } catch {
    throw new TemplateError(`connection "${cb.connection_id}": extra is not JSON; write {"from": "leoflow@example.com"}`);
  }
  const from = typeof extra.from === "string" ? extra.from : conn.login;
  if (!from)
    throw new TemplateError(`connection "${cb.connection_id}" names no sender: set extra {"from": "leoflow@example.com"} or a login`);
  const port = conn.port ?? 25;
  const to = (Array.isArray(cb.to) ? cb.to : [cb.to]).flatMap((t, i) =>
    renderString(t, ctx, Array.isArray(cb.to) ? `to[${i}]` : "to")
      .split(",")
      .map((a) => a.trim())
      .filter(Boolean),
  );
  if (!to.length) throw new TemplateError(`the smtp callback's "to" rendered to no address`);
  return {
    settings: {
      host: conn.host,
      port,
      secure: port === 465,
      starttls: typeof extra.starttls === "boolean" ? extra.starttls : undefined,
      auth: conn.login ? { user: conn.login, pass: conn.password ?? "" } : undefined,
    },
    mail: { from, to, subject: renderString(cb.subject, ctx, "subject"), text: renderString(cb.message, ctx, "message") },
  };
}

/**
 * Sends one e-mail with nodemailer, imported on first use: a server whose DAGs send no mail never loads it.
 * Rejects with the server's answer (e.g. "550 mailbox unavailable") or a connection error.
 */
export async function sendMail(settings: SmtpSettings, mail: MailMessage, timeoutMs: number): Promise<void> {
  const { createTransport } = await import("nodemailer");
  const transport = createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    requireTLS: settings.starttls === true,
    ignoreTLS: settings.starttls === false,
    auth: settings.auth,
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  try {
    await transport.sendMail(mail);
  } finally {
    transport.close();
  }
}
