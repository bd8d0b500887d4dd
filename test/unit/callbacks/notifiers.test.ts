/** The notifiers' requests and mails built from a callback and its connection (pure), and where ts callbacks point. */
import { expect, test } from "bun:test";
import { slackCall, smtpMail, tsCallbackTarget } from "../../../src/callbacks";
import type { ConnectionRecord, TemplateContext } from "../../../src/domain";

const ctx: TemplateContext = {
  dag_id: "etl",
  run_id: "r1",
  task_id: "load",
  try_number: 2,
  logical_date: null,
  params: {},
  conf: {},
  xcom: {},
  var: {},
};
const conn = (f: Partial<ConnectionRecord>): ConnectionRecord => ({
  connection_id: "c",
  conn_type: "slack",
  description: null,
  host: null,
  login: null,
  password: null,
  schema: null,
  port: null,
  extra: null,
  ...f,
});
const slack = { notifier: "slack" as const, connection_id: "chat", message: "{{ dag_id }}.{{ task.task_id }} try {{ ti.try_number }}" };

test.each<[string, Partial<ConnectionRecord>, string]>([
  ["the whole URL in host", { host: "https://hooks.example/services/T/B/X" }, "https://hooks.example/services/T/B/X"],
  [
    "host as the base and the token path in password",
    { host: "https://hooks.example/services/", password: "/T/B/X" },
    "https://hooks.example/services/T/B/X",
  ],
  ["the whole URL in password", { host: "ignored", password: "https://chat.example/hooks/abc" }, "https://chat.example/hooks/abc"],
])("slack: %s", (_, fields, url) => {
  const built = slackCall(slack, ctx, conn(fields));
  expect(built.call.url).toBe(url);
  expect(built.call.method).toBe("POST");
  expect(JSON.parse(built.call.body!)).toEqual({ text: "etl.load try 2" });
  expect(built.call.safeUrl).not.toContain("/services");
  expect(built.secrets).toContain(url);
});

test("slack: a missing connection or one without a URL says how to fix it", () => {
  expect(() => slackCall(slack, ctx, null)).toThrow(
    'connection "chat" does not exist; create it with POST /api/v2/connections (conn_type "slack"',
  );
  expect(() => slackCall(slack, ctx, conn({ host: "hooks.example" }))).toThrow('connection "chat" has no webhook URL');
});

const mail = {
  notifier: "smtp" as const,
  connection_id: "mail",
  to: ["a@x.test, b@x.test", "{{ dag_id }}@x.test"],
  subject: "{{ run_id }} failed",
  message: "see {{ dag_id }}",
};

test("smtp: addresses split and templated, sender from extra, TLS from the port, auth from login", () => {
  const out = smtpMail(
    mail,
    ctx,
    conn({ conn_type: "smtp", host: "smtp.x.test", port: 465, login: "bot", password: "pw", extra: '{"from":"leoflow@x.test"}' }),
  );
  expect(out.mail).toEqual({ from: "leoflow@x.test", to: ["a@x.test", "b@x.test", "etl@x.test"], subject: "r1 failed", text: "see etl" });
  expect(out.settings).toEqual({ host: "smtp.x.test", port: 465, secure: true, starttls: undefined, auth: { user: "bot", pass: "pw" } });
  const plain = smtpMail(mail, ctx, conn({ conn_type: "smtp", host: "smtp.x.test", login: "bot@x.test", extra: '{"starttls":true}' }));
  expect(plain.settings).toMatchObject({ port: 25, secure: false, starttls: true });
  expect(plain.mail.from).toBe("bot@x.test");
});

test("smtp: no host, no sender or a bad extra are refused with the fix", () => {
  expect(() => smtpMail(mail, ctx, conn({ conn_type: "smtp" }))).toThrow('connection "mail" has no host');
  expect(() => smtpMail(mail, ctx, conn({ conn_type: "smtp", host: "h" }))).toThrow('set extra {"from": "leoflow@example.com"} or a login');
  expect(() => smtpMail(mail, ctx, conn({ conn_type: "smtp", host: "h", extra: "{from" }))).toThrow("extra is not JSON");
});

test("ts callbacks resolve beside the DAG file and may not leave its folder", () => {
  expect(tsCallbackTarget("_cb/alerts.ts:onFailure", "/dags/team/etl.json")).toEqual({
    file: "/dags/team/_cb/alerts.ts",
    name: "onFailure",
  });
  expect(() => tsCallbackTarget("../other/alerts.ts:onFailure", "/dags/team/etl.json")).toThrow("points outside the DAG file's folder");
  expect(() => tsCallbackTarget("/etc/alerts.ts:onFailure", "/dags/team/etl.json")).toThrow("points outside the DAG file's folder");
});
