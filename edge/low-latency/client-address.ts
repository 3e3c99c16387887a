/**
 * The viewer's address, for the per-address limit on held low-latency requests, where the
 * runtime tells it reliably:
 * - Node (@hono/node-server): the socket's peer, `c.env.incoming.socket.remoteAddress`;
 * - Workers: `cf-connecting-ip`, which Cloudflare sets on every request (a client's own header of
 *   that name does not get through). Read only on Workers: elsewhere any client could send it.
 * Deno's `Deno.serve` keeps the peer out of the request: no per-address limit there.
 *
 * A loopback peer is this machine or a reverse proxy on it (every viewer behind it would share
 * one address), never one viewer: it gets no per-address limit either.
 */
import { isLoopbackHost } from '../../shared/loopback.ts';

/** What the route knows of a request: its runtime bindings (Hono's `c.env`) and its headers. */
export interface RequestOrigin {
  env: unknown;
  header(name: string): string | undefined;
}

const RUNS_ON_WORKERS = typeof navigator !== 'undefined' && navigator.userAgent === 'Cloudflare-Workers';

export function clientAddress(origin: RequestOrigin, onWorkers = RUNS_ON_WORKERS): string | undefined {
  const incoming = (origin.env as { incoming?: { socket?: { remoteAddress?: unknown } } } | undefined)?.incoming;
  let address: string | undefined;
  if (incoming) {
    const remote = incoming.socket?.remoteAddress;
    address = typeof remote === 'string' ? remote : undefined;
  } else if (onWorkers) {
    address = origin.header('cf-connecting-ip')?.trim();
  }
  // An address is short; anything else is not one (bounds the limit's map keys).
  if (!address || address.length > 64 || isLoopbackHost(address)) return undefined;
  return address;
}
