/**
 * What the server says of the admin user at start. Found by a tester: an admin created from the config file's
 * admin_password was logged as coming "from LEOFLOW_ADMIN_PASSWORD"; the line names where a password may come from.
 */
import { expect, test } from "bun:test";
import { announceAdmin } from "../../src/auth";
import { openStore } from "../../src/store";

test("a given password: created, then changed, each saying where a password comes from", async () => {
  const store = openStore("sqlite::memory:");
  await store.migrate();
  try {
    const said: string[] = [];
    const out = { info: (m: string) => said.push(`info: ${m}`), print: (t: string) => said.push(`print: ${t.trim().split("\n")[0]}`) };
    await announceAdmin(store, "first-password-123", out, new Date());
    await announceAdmin(store, "second-password-456", out, new Date());
    expect(said).toEqual([
      "info: admin user created with the given password (LEOFLOW_ADMIN_PASSWORD or the config file's admin_password)",
      "info: admin password changed to the given one (LEOFLOW_ADMIN_PASSWORD or the config file's admin_password)",
    ]);
  } finally {
    await store.close();
  }
});
