/**
 * The environment the installed systemd unit gives the service (its `Environment=` lines), as systemd sets it:
 * for tests that run the binary as the unit does, and for `scripts/bench --launch unit`. Imports nothing from tests.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export function unitEnvironment(): Record<string, string> {
  const unit = readFileSync(join(import.meta.dir, "../../packaging/leoflow.service"), "utf8");
  return Object.fromEntries([...unit.matchAll(/^Environment=([A-Za-z_][A-Za-z0-9_]*)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
}
