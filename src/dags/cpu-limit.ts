/**
 * A CPU-time rlimit for the parse process itself. The server kills a parse process at the wall-clock limit;
 * this is the backstop for when the server cannot (it was SIGKILLed mid-parse): an orphaned child spinning
 * in `while (true) {}` is then killed by the kernel (SIGXCPU) instead of burning a core forever. Only
 * RLIMIT_CPU: RLIMIT_AS would break Bun, whose JIT and heap reserve huge virtual ranges.
 */
import { dlopen, FFIType, ptr } from "bun:ffi";

const RLIMIT_CPU = 0; // the same on Linux and macOS

/** Sets this process's CPU-time limit in seconds; false when the platform does not allow it. */
export function limitCpuSeconds(seconds: number): boolean {
  if (!(seconds > 0) || (process.platform !== "linux" && process.platform !== "darwin")) return false;
  try {
    const libc = dlopen(process.platform === "darwin" ? "libc.dylib" : "libc.so.6", {
      setrlimit: { args: [FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
    });
    const limit = new BigUint64Array([BigInt(Math.ceil(seconds)), BigInt(Math.ceil(seconds) + 5)]); // soft, hard
    const ok = libc.symbols.setrlimit(RLIMIT_CPU, ptr(limit)) === 0;
    libc.close();
    return ok;
  } catch {
    return false; // musl, or no FFI: the server's wall-clock limit still applies
  }
}
