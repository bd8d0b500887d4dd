/**
 * Whether `main` (Bun.main) is a module inside a `bun build --compile` binary: "/$bunfs/root/<name>" (on Windows
 * "B:/~BUN/…"), verified with a tiny compiled binary. Pure: the caller passes Bun.main.
 */
export function isCompiledMain(main: string): boolean {
  return main.startsWith("/$bunfs/") || /^[A-Za-z]:[\\/]~BUN[\\/]/.test(main);
}
