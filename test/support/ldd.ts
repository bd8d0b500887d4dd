/**
 * The shared libraries `ldd` resolves for `binaries`: what a test image's rootfs must hold beside them. Only the
 * paths ldd printed with a load address ("/path (0x…)"): the header line ldd prints per binary names the binary,
 * whose own path may hold ".so" (a temp folder named tmp.soXXXX failed a fresh clone's CI).
 */
export function linkedLibraries(binaries: string[]): string[] {
  const out = Bun.spawnSync(["ldd", ...binaries]).stdout.toString();
  return [...new Set([...out.matchAll(/(\/\S+) \(0x[0-9a-f]+\)/g)].map((m) => m[1]!))];
}
