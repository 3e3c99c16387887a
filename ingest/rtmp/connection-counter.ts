/**
 * Counts open connections, in total and per source, so one more can be refused before any of its
 * bytes are read. A source is an IPv4 address or an IPv6 /64 (one subscriber's allocation: a
 * single host can use any address in it).
 */
import { isIPv6 } from 'node:net';

export interface ConnectionCounterLimits {
  maxConnections: number;
  maxConnectionsPerSource: number;
}

export type Admission = { admitted: true; source: string } | { admitted: false; reason: 'connection-limit' | 'per-ip-limit' };

export class ConnectionCounter {
  private readonly limits: ConnectionCounterLimits;
  private readonly perSource = new Map<string, number>();
  private total = 0;

  constructor(limits: ConnectionCounterLimits) {
    this.limits = limits;
  }

  get open(): number {
    return this.total;
  }

  /** Counts the connection when it is within the limits; an admitted one must be released once. */
  admit(remoteAddress: string): Admission {
    // The source's limit first: a source at its limit is refused even when others could make room.
    const source = connectionSource(remoteAddress);
    const count = this.perSource.get(source) ?? 0;
    if (count >= this.limits.maxConnectionsPerSource) return { admitted: false, reason: 'per-ip-limit' };
    if (this.total >= this.limits.maxConnections) return { admitted: false, reason: 'connection-limit' };
    this.perSource.set(source, count + 1);
    this.total += 1;
    return { admitted: true, source };
  }

  release(source: string): void {
    const count = this.perSource.get(source);
    if (count === undefined) return;
    if (count <= 1) this.perSource.delete(source);
    else this.perSource.set(source, count - 1);
    this.total -= 1;
  }
}

/** The source a connection is counted against: `1.2.3.4`, or `2001:db8:0:1::/64`. */
export function connectionSource(remoteAddress: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(remoteAddress);
  if (mapped) return mapped[1]!;
  if (!isIPv6(remoteAddress)) return remoteAddress;
  return `${leadingGroups(remoteAddress.split('%')[0]!).join(':')}::/64`;
}

/** The first four 16-bit groups of an IPv6 address, as lower-case hex without leading zeros. */
function leadingGroups(address: string): string[] {
  const [head = '', tail] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  // A dotted IPv4 tail (::1.2.3.4) fills two groups.
  const slots = (parts: string[]) => parts.reduce((sum, part) => sum + (part.includes('.') ? 2 : 1), 0);
  const zeros = tail === undefined ? 0 : 8 - slots(left) - slots(right);
  const groups = [...left, ...Array<string>(zeros).fill('0'), ...right];
  return groups.slice(0, 4).map((group) => Number.parseInt(group, 16).toString(16));
}
