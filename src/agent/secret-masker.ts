/**
 * Replaces the secrets a task has read with "***" in its log lines. Pure; the log shipper owns one and feeds
 * it from env_from and from the mask file the task's own `leoflow task … get` calls append to.
 *
 * @example const m = new SecretMasker(); m.add("s3cret"); m.mask("pw=s3cret") // "pw=***"
 */
import { MIN_MASKED_LENGTH } from "../domain/env-from"; // not the index: keeps agent start-up light

export const MASKED = "***";

/** More than this many distinct secrets are not tracked: a runaway task cannot make every line cost more. */
export const MAX_SECRETS = 1000;

export class SecretMasker {
  /** Longest first, so a secret containing another is replaced whole. */
  private secrets: string[] = [];

  get size(): number {
    return this.secrets.length;
  }

  /** Adds a secret; a multi-line one (a private key) is masked line by line, since logs are split into lines. */
  add(secret: string): void {
    for (const part of secret.split(/\r?\n/)) {
      const s = part.trim();
      if (s.length < MIN_MASKED_LENGTH || this.secrets.includes(s) || this.secrets.length >= MAX_SECRETS) continue;
      this.secrets.push(s);
    }
    this.secrets.sort((a, b) => b.length - a.length);
  }

  mask(line: string): string {
    let out = line;
    for (const s of this.secrets) if (out.includes(s)) out = out.replaceAll(s, MASKED);
    return out;
  }
}
