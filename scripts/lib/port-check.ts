/**
 * Is a port free before `npm start` starts anything on it? Asked up front because the
 * alternative is worse: wrangler and the sidecar each fail in their own way (esbuild EPIPE
 * stacks, a `cannot listen` line) after the other has started, and a readiness check may take
 * the other program's answer for ours.
 */
import { createServer } from 'node:net';

export interface PortUse {
  /** What would listen there, for the message: `edge`, `RTMP`, `operations API`. */
  what: string;
  port: number;
  /** The `npm start` flag that moves it. */
  flag: string;
}

/**
 * Whether nothing listens on `port` on any address of this machine. Binding the IPv6 wildcard
 * (dual stack) fails when anything holds the port on 127.0.0.1, 0.0.0.0, ::1 or ::, which the
 * IPv4 wildcard alone would miss for ::1 (where a browser's `localhost` may go first).
 */
export async function portIsFree(port: number): Promise<boolean> {
  const onIpv6 = await tryListen('::', port);
  if (onIpv6 !== 'no-ipv6') return onIpv6 === 'free';
  return (await tryListen('0.0.0.0', port)) === 'free';
}

function tryListen(host: string, port: number): Promise<'free' | 'busy' | 'no-ipv6'> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      resolve(error.code === 'EAFNOSUPPORT' || error.code === 'EADDRNOTAVAIL' ? 'no-ipv6' : 'busy');
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve('free')));
  });
}

/** The first of `uses` whose port is taken (ports of 0 are turned off and not checked). */
export async function firstBusyPort(uses: readonly PortUse[]): Promise<PortUse | undefined> {
  for (const use of uses) {
    if (use.port !== 0 && !(await portIsFree(use.port))) return use;
  }
  return undefined;
}

/** A free port after `port` to suggest (or just the next one, when none of the few tried is free). */
export async function nearbyFreePort(port: number, taken: ReadonlySet<number> = new Set()): Promise<number> {
  for (let candidate = port + 1; candidate <= Math.min(port + 20, 65_535); candidate++) {
    if (!taken.has(candidate) && (await portIsFree(candidate))) return candidate;
  }
  return port + 1;
}

/** One line: which port, what it is for, and the command that moves it. */
export function busyPortMessage(use: PortUse, suggestion: number): string {
  return `port ${use.port} (${use.what}) is already in use by another program: stop it, or pick another port: npm start -- ${use.flag} ${suggestion}`;
}
