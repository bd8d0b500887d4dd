/**
 * systemd's readiness and watchdog protocol (sd_notify(3)) for the `Type=notify` unit `leoflow install`
 * writes: "READY=1" once the server answers, "WATCHDOG=1" while the scheduler loop is healthy, "STOPPING=1"
 * on shutdown, each a datagram to the unix socket named by NOTIFY_SOCKET.
 *
 * Bun has no unix datagram sockets, so this calls libc's socket(2) and sendto(2) through bun:ffi, loaded only
 * when NOTIFY_SOCKET is set. Spawning `systemd-notify` instead would need NotifyAccess=all (the message comes
 * from another PID) and costs a process per watchdog ping; `Type=simple` would make systemd call the unit
 * started before it can serve, and leave a wedged scheduler running.
 */
import type { Logger } from "./logger";

const AF_UNIX = 1;
const SOCK_DGRAM_CLOEXEC = 2 | 0o2000000; // SOCK_DGRAM | SOCK_CLOEXEC (the same on x64 and arm64 Linux)
// glibc, then musl (Alpine names its libc after the architecture).
const LIBCS = ["libc.so.6", `libc.musl-${process.arch === "arm64" ? "aarch64" : "x86_64"}.so.1`, "libc.so"];

export interface SystemdNotify {
  /** Tells systemd the service is stopping (before the grace period, so `systemctl stop` shows it). */
  stopping(): void;
}

/**
 * Sends READY=1 now and WATCHDOG=1 every half WATCHDOG_USEC while `healthy()` says so (a wedged scheduler
 * stops the pings and systemd restarts the service). Returns null when not started by systemd with
 * NOTIFY_SOCKET (or not on Linux), so callers do nothing extra elsewhere.
 */
export async function startSystemdNotify(opts: {
  env: Record<string, string | undefined>;
  logger: Logger;
  status: string;
  healthy: () => boolean;
}): Promise<SystemdNotify | null> {
  const socketPath = opts.env.NOTIFY_SOCKET;
  if (!socketPath || process.platform !== "linux") return null;
  const send = await datagramSender(socketPath, opts.logger);
  if (!send) return null;
  send(`READY=1\nSTATUS=${opts.status}\nMAINPID=${process.pid}`);
  const usec = Number(opts.env.WATCHDOG_USEC);
  const forUs = !opts.env.WATCHDOG_PID || Number(opts.env.WATCHDOG_PID) === process.pid;
  let timer: ReturnType<typeof setInterval> | undefined;
  if (usec > 0 && forUs) {
    timer = setInterval(() => {
      if (opts.healthy()) send("WATCHDOG=1");
      else opts.logger.warn("scheduler unhealthy: withholding the systemd watchdog ping");
    }, usec / 2000);
    timer.unref?.();
  }
  return {
    stopping() {
      clearInterval(timer);
      send("STOPPING=1");
    },
  };
}

/** A function sending one datagram to `socketPath` ("@name": the abstract namespace), or null when libc is out of reach. */
async function datagramSender(socketPath: string, log: Logger): Promise<((message: string) => void) | null> {
  const { dlopen, FFIType, ptr } = await import("bun:ffi");
  const symbols = {
    socket: { args: [FFIType.i32, FFIType.i32, FFIType.i32], returns: FFIType.i32 },
    sendto: { args: [FFIType.i32, FFIType.ptr, FFIType.u64, FFIType.i32, FFIType.ptr, FFIType.u32], returns: FFIType.i64 },
  } as const;
  let libc: ReturnType<typeof dlopen<typeof symbols>> | undefined;
  for (const name of LIBCS) {
    try {
      libc = dlopen(name, symbols);
      break;
    } catch {}
  }
  const path = new TextEncoder().encode(socketPath.startsWith("@") ? `\0${socketPath.slice(1)}` : socketPath);
  if (!libc || path.length > 107) {
    log.error("cannot notify systemd (NOTIFY_SOCKET is set): use Type=simple in the unit", {
      reason: libc ? "socket path longer than 107 bytes" : `none of ${LIBCS.join(", ")} could be loaded`,
    });
    return null;
  }
  const fd = libc.symbols.socket(AF_UNIX, SOCK_DGRAM_CLOEXEC, 0);
  if (fd < 0) {
    log.error("cannot notify systemd: socket(AF_UNIX, SOCK_DGRAM) failed");
    return null;
  }
  // struct sockaddr_un: sa_family_t (2 bytes, little-endian on x64 and arm64), then the path; a filesystem path ends in NUL.
  const addr = new Uint8Array(110);
  new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
  addr.set(path, 2);
  const addrLen = 2 + path.length + (path[0] === 0 ? 0 : 1);
  const { sendto } = libc.symbols;
  return (message) => {
    const bytes = new TextEncoder().encode(message);
    if (Number(sendto(fd, ptr(bytes), bytes.length, 0, ptr(addr), addrLen)) < 0)
      log.warn("a notification to systemd was not delivered", { message: message.split("\n")[0] });
  };
}
