/**
 * Write credentials checked once per token, not once per request. A sidecar sends the same write
 * token with every upload of a stream for up to an hour (several a second per stream, and every
 * live channel open): checking its HMAC each time was ~5 % of a busy Node edge's CPU at 10
 * streams. A token whose signature checked out stays good until its own expiry (nothing else
 * about it changes: the secret is part of the memo's key), so the memo answers until then and
 * forgets it after; refusals are never kept (each gets its full check and its own reason).
 */
import { checkWriteCredential, type WriteCheck } from '../../shared/write-api.ts';

/** Tokens kept: a few per live stream (each renews hourly); past it the memo starts over. */
const MAX_REMEMBERED = 4096;

export type WriteCredentialCheck = (secret: string, bearer: string, now: number) => Promise<WriteCheck>;

/** checkWriteCredential with a memo of the tokens it accepted, each until its expiry. */
export function rememberedWriteCredentials(check: WriteCredentialCheck = checkWriteCredential): WriteCredentialCheck {
  const accepted = new Map<string, Extract<WriteCheck, { how: 'token' }>>();
  return async (secret, bearer, now) => {
    const key = `${secret}\n${bearer}`;
    const known = accepted.get(key);
    if (known && known.expiresAt > now / 1000) return known;
    if (known) accepted.delete(key);
    const result = await check(secret, bearer, now);
    if (result.ok && result.how === 'token') {
      if (accepted.size >= MAX_REMEMBERED) accepted.clear();
      accepted.set(key, result);
    }
    return result;
  };
}
