/**
 * The agent's control line to the executor that started it. The user process runs in its own process
 * group, so a SIGKILLed agent would leave it running; the agent therefore tells its executor the group id
 * over stdout (its logs go to stderr), and the executor kills that group when the agent exits. Only when
 * asked (LEOFLOW_AGENT_CONTROL=stdout): in a container the container itself is the boundary.
 *
 * @example formatControlLine({ user_pgid: 4242 }) // 'leoflow-control {"user_pgid":4242}\n'
 */

const PREFIX = "leoflow-control ";

export interface ControlMessage {
  /** Process group id of the user process (its pid: it is started with setsid). */
  user_pgid: number;
}

export function formatControlLine(msg: ControlMessage): string {
  return `${PREFIX}${JSON.stringify(msg)}\n`;
}

/** The message on one stdout line of the agent, or null for anything else. */
export function parseControlLine(line: string): ControlMessage | null {
  if (!line.startsWith(PREFIX)) return null;
  try {
    const msg = JSON.parse(line.slice(PREFIX.length)) as Partial<ControlMessage>;
    return Number.isSafeInteger(msg.user_pgid) && msg.user_pgid! > 1 ? { user_pgid: msg.user_pgid! } : null;
  } catch {
    return null;
  }
}
