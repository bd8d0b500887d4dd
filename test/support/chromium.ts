/**
 * The browser the UI tests drive: Debian's Chromium, installed by scripts/chromium when missing and allowed, launched
 * headless through playwright-core. Under CI=true a missing browser is a failure, not a skip.
 */
import { join, resolve } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";

const ROOT = resolve(import.meta.dir, "../..");

/** The browser's path from scripts/chromium; null when there is none (outside CI: the UI tests skip). */
export function findChromium(): string | null {
  const r = Bun.spawnSync([join(ROOT, "scripts/chromium")], { stderr: "pipe" });
  const path = r.stdout.toString().trim();
  if (r.exitCode === 0 && path) return path;
  if (process.env.CI === "true") throw new Error(`scripts/chromium failed under CI: ${r.stderr.toString()}`);
  return null;
}

/** Chromium at `path`, headless, as the UI tests run it (no sandbox as root, no GPU, no /dev/shm). */
export function launchChromium(path: string | null): Promise<Browser> {
  return chromium.launch({ executablePath: path ?? undefined, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
}

/** Signs in on the app's login page at `url` and waits for the DAG list. */
export async function signIn(page: Page, url: string, username: string, password: string): Promise<void> {
  await page.goto(url);
  await page.waitForURL(/\/login/);
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/dags/);
}
