/**
 * bun test's preload (bunfig.toml): every temporary folder a test file makes, and its servers' and agents' (they
 * inherit TMPDIR), goes under one folder of this process, removed after its last test. scripts/test does the same for a
 * whole run; this covers a test file run directly with `bun test`, which used to leave leoflow-* folders in /tmp.
 */
import { afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "leoflow-test-"));
process.env.TMPDIR = dir;
// A preload's afterAll runs once, after every file of the process (bun test fires no "exit" handlers).
afterAll(() => rmSync(dir, { recursive: true, force: true }));
