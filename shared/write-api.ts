/** The edge's write API, as both sides know it: `PUT /_ingest/objects/<storage key>`, bearer credential. */
import { constantTimeEqual } from './constant-time.ts';
import { hmacSha256Base64Url } from './hmac.ts';

export const WRITE_API_PREFIX = '/_ingest/objects/';

/** Largest object the write API accepts: a 2 s segment of a high-bitrate source fits many times. */
export const WRITE_API_MAX_BYTES = 64 * 1024 * 1024;

/**
 * The ingest secret `npm start` and `.dev.vars.example` use when none is set. Public (it is in
 * this repository), so only a local development edge accepts it: Node and Deno edges refuse to
 * start with it on a non-loopback address, and every edge refuses writes authorized by it unless
 * the request is a local one (edge/development-secret.ts).
 */
export const DEVELOPMENT_INGEST_SECRET = 'dev-only-ingest-secret';

/**
 * How long a write token lives from when it is minted. Short, because a token seen on the wire
 * (a log, a proxy) is good for its whole life and cannot be revoked on its own: rotating
 * INGEST_SECRET revokes every token at once, and a leaked one dies within this time.
 */
export const WRITE_TOKEN_TTL_SECONDS = 3600;

/**
 * The edge accepts expiries at most this far ahead: a token's life plus room for the sidecar's
 * clock being ahead of the edge's. A token claiming a later expiry was not minted by our sidecar.
 */
export const WRITE_TOKEN_MAX_AHEAD_SECONDS = WRITE_TOKEN_TTL_SECONDS + 300;

/** `w2.STREAM_ID.EXPIRY.SIGNATURE`; EXPIRY in epoch seconds. */
const TOKEN_SHAPE = /^w2\.([A-Za-z0-9_-]{1,64})\.(\d{1,12})\.([A-Za-z0-9_-]{43})$/;
// The first format, without an expiry: refused with a reason rather than as garbage.
const RETIRED_TOKEN_SHAPE = /^w1\.[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_-]{43}$/;

/**
 * A write credential scoped to one stream and to a time: `w2.STREAM_ID.EXPIRY.SIGNATURE`, the
 * base64url HMAC-SHA256 of the stream id and expiry under the ingest secret. The sidecar sends
 * these, never the secret itself, so a credential seen on the wire writes one stream's prefix,
 * for at most WRITE_TOKEN_TTL_SECONDS. `now` in epoch milliseconds.
 */
export async function streamWriteToken(secret: string, playbackId: string, now: number = Date.now()): Promise<string> {
  const expiresAt = Math.floor(now / 1000) + WRITE_TOKEN_TTL_SECONDS;
  return `w2.${playbackId}.${expiresAt}.${await writeSignature(secret, playbackId, expiresAt)}`;
}

/** The expiry (epoch seconds) a write token carries, unverified: the sidecar's renewal reads its own tokens. */
export function writeTokenExpiry(token: string): number | undefined {
  const shape = TOKEN_SHAPE.exec(token);
  return shape ? Number(shape[2]) : undefined;
}

/**
 * What a bearer credential may write: `'*'` (every stream) for the ingest secret itself, a stream
 * id for that stream's unexpired write token. `how` says which, so the edge can treat a write by
 * the development secret apart; `reason` says why a credential is refused.
 */
export type WriteCheck = { ok: true; scope: string; how: 'secret'; expiresAt?: undefined } | { ok: true; scope: string; how: 'token'; expiresAt: number } | { ok: false; reason: string };

export async function checkWriteCredential(secret: string, bearer: string, now: number): Promise<WriteCheck> {
  if (constantTimeEqual(bearer, secret)) return { ok: true, scope: '*', how: 'secret' };
  if (RETIRED_TOKEN_SHAPE.test(bearer)) return { ok: false, reason: 'w1 write tokens (no expiry) are no longer accepted: update the sidecar, it sends w2 tokens' };
  const shape = TOKEN_SHAPE.exec(bearer);
  if (!shape) return { ok: false, reason: 'wrong ingest secret or write token' };
  const [playbackId, expiry, signature] = [shape[1]!, Number(shape[2]), shape[3]!];
  // The signature first: what an unsigned token claims about its expiry is not worth a reason.
  if (!constantTimeEqual(signature, await writeSignature(secret, playbackId, expiry))) return { ok: false, reason: 'wrong ingest secret or write token' };
  const nowSeconds = now / 1000;
  if (expiry <= nowSeconds) return { ok: false, reason: `write token expired at ${new Date(expiry * 1000).toISOString()}: the sidecar renews its tokens; check its clock against the edge's` };
  if (expiry > nowSeconds + WRITE_TOKEN_MAX_AHEAD_SECONDS) {
    return { ok: false, reason: `write token expires too far ahead (${new Date(expiry * 1000).toISOString()}): tokens live at most ${WRITE_TOKEN_TTL_SECONDS} s; check the sidecar's clock` };
  }
  return { ok: true, scope: playbackId, how: 'token', expiresAt: expiry };
}

/** The stream a bearer credential may write: `'*'` for the ingest secret itself, undefined when it is neither (or expired). */
export async function writeScope(secret: string, bearer: string, now: number = Date.now()): Promise<string | undefined> {
  const check = await checkWriteCredential(secret, bearer, now);
  return check.ok ? check.scope : undefined;
}

function writeSignature(secret: string, playbackId: string, expiresAt: number): Promise<string> {
  return hmacSha256Base64Url(secret, `write:v2:${playbackId}:${expiresAt}`);
}
