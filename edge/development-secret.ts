/**
 * The development ingest secret (DEVELOPMENT_INGEST_SECRET) is public: an edge that accepts it
 * lets anyone write any stream. Only a local development server may, and this is how an edge
 * knows it is one:
 *
 * - Node and Deno edges: they refuse to start with it unless they listen on a loopback address
 *   (developmentListenRefusal), so nothing off this machine reaches them directly.
 * - Every runtime, per request (developmentRequestRefusal): a write authorized by it (the secret
 *   or a write token derived from it) is taken only when the request's URL host is loopback, the
 *   peer address (where the runtime gives it: Node, Deno) is loopback, `cf-connecting-ip` (when
 *   present) is loopback, and no proxy header (`forwarded`, `x-forwarded-for`, `x-real-ip`) is
 *   present. On Workers this is the whole check: Cloudflare delivers a request to a Worker only
 *   through its routes, custom domains or workers.dev (never a loopback host) and sets
 *   `cf-connecting-ip` to the real client; `wrangler dev` (checked with wrangler 4) builds the URL
 *   from the Host header and sets `cf-connecting-ip` to the peer's address, keeping one a client
 *   sent. So `wrangler dev --ip 0.0.0.0` with the development secret can be fooled by a client
 *   sending `Host: localhost` and `cf-connecting-ip: 127.0.0.1`; nor can any edge tell a local
 *   reverse proxy that rewrites Host and adds no X-Forwarded-For from a local client. Keep a
 *   development edge on loopback (npm start does) and give any other edge a random secret.
 */
import { isLoopbackHost } from '../shared/loopback.ts';
import { DEVELOPMENT_INGEST_SECRET } from '../shared/write-api.ts';

const WHAT_TO_DO = 'set INGEST_SECRET on the edge and the sidecar to the same random value (e.g. `openssl rand -hex 32`)';

/** The one line a Node or Deno edge exits with, or undefined when it may start. */
export function developmentListenRefusal(ingestSecret: string | undefined, listenHost: string): string | undefined {
  if (ingestSecret !== DEVELOPMENT_INGEST_SECRET || isLoopbackHost(listenHost)) return undefined;
  return `edge: INGEST_SECRET is the public development value "${DEVELOPMENT_INGEST_SECRET}" and the edge would listen on ${listenHost}, beyond this machine: ${WHAT_TO_DO}, or listen on 127.0.0.1`;
}

const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-real-ip'];

export interface RequestOrigin {
  url: string;
  headers: Headers;
  /** The connecting peer's address, where the runtime gives it (Node, Deno); undefined on Workers. */
  peerAddress: string | undefined;
}

/** Why a write authorized by the development secret is refused here, or undefined for a local development request. */
export function developmentRequestRefusal(origin: RequestOrigin): string | undefined {
  const host = new URL(origin.url).hostname;
  const cfClient = origin.headers.get('cf-connecting-ip');
  const local =
    isLoopbackHost(host) &&
    (origin.peerAddress === undefined || isLoopbackHost(origin.peerAddress)) &&
    (cfClient === null || isLoopbackHost(cfClient.trim())) &&
    PROXY_HEADERS.every((name) => !origin.headers.has(name));
  if (local) return undefined;
  return `this edge's INGEST_SECRET is the public development value "${DEVELOPMENT_INGEST_SECRET}", accepted only from this machine on a loopback address: ${WHAT_TO_DO}`;
}
