/**
 * Signed playback tokens: `EXPIRY.SIGNATURE`, where EXPIRY is epoch seconds and SIGNATURE the
 * base64url HMAC-SHA256 of the playback id and expiry under the platform's playback secret. A
 * token is bound to one stream (a token for another stream's id does not verify) and expires.
 * WebCrypto only: the same code mints in Node and verifies in Workers and Deno.
 */
import { constantTimeEqual } from './constant-time.ts';
import { hmacSha256Base64Url } from './hmac.ts';

export const PLAYBACK_TOKEN_PARAM = 'token';
/** The longest a token may live: a leaked token must not be good for ever. */
export const MAX_TOKEN_TTL_SECONDS = 7 * 24 * 3600;

/**
 * Verification takes expiries up to this much beyond now + MAX_TOKEN_TTL_SECONDS: a token minted
 * for the longest life by a machine whose clock is a little ahead of the edge's still works.
 */
const CLOCK_SKEW_SECONDS = 300;

const TOKEN_SHAPE = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/;

export type TokenCheck = { ok: true; expiresAt: number } | { ok: false; status: 401 | 403; reason: string };

function signature(secret: string, playbackId: string, expiresAt: number): Promise<string> {
  return hmacSha256Base64Url(secret, `playback:v1:${playbackId}:${expiresAt}`);
}

/** A token for `playbackId` valid until `expiresAt` (epoch seconds). */
export async function mintPlaybackToken(secret: string, playbackId: string, expiresAt: number): Promise<string> {
  if (!secret) throw new Error('a playback secret is needed to mint tokens (PLAYBACK_SECRET)');
  if (!Number.isInteger(expiresAt) || expiresAt <= 0) throw new Error('expiry must be a whole number of epoch seconds');
  return `${expiresAt}.${await signature(secret, playbackId, expiresAt)}`;
}

/** Checks a viewer's token for `playbackId` at `now` (epoch milliseconds). */
export async function verifyPlaybackToken(secret: string, token: string | undefined, playbackId: string, now: number): Promise<TokenCheck> {
  if (token === undefined || token === '') return { ok: false, status: 401, reason: `this stream needs a playback token: add ?${PLAYBACK_TOKEN_PARAM}=...` };
  const shape = TOKEN_SHAPE.exec(token);
  if (!shape) return { ok: false, status: 403, reason: 'malformed playback token' };
  const expiresAt = Number(shape[1]);
  const expected = await signature(secret, playbackId, expiresAt);
  if (!constantTimeEqual(shape[2]!, expected)) return { ok: false, status: 403, reason: 'playback token is not valid for this stream' };
  if (expiresAt * 1000 <= now) return { ok: false, status: 403, reason: `playback token expired at ${new Date(expiresAt * 1000).toISOString()}` };
  // Minting tools cap lives, but the secret may mint anything: the edge holds the cap too, so a
  // token minted for (nearly) ever is not good for ever.
  if (expiresAt > now / 1000 + MAX_TOKEN_TTL_SECONDS + CLOCK_SKEW_SECONDS) {
    return { ok: false, status: 403, reason: `playback token expires too far ahead (${new Date(expiresAt * 1000).toISOString()}): tokens live at most ${MAX_TOKEN_TTL_SECONDS / 86_400} days; mint a shorter one` };
  }
  return { ok: true, expiresAt };
}
