import { describe, expect, it } from 'vitest';
import { checkWriteCredential, streamWriteToken, WRITE_TOKEN_TTL_SECONDS } from '../../../shared/write-api.ts';
import { rememberedWriteCredentials } from '../../../edge/routes/write-api-credentials.ts';

const SECRET = 'a-secret-of-the-edge';

const NOW = Date.UTC(2026, 11, 6, 12);

/** A remembering check over checkWriteCredential, counting the full checks, and a token minted at NOW. */
async function remembering() {
  const counter = { calls: 0 };
  const verify = rememberedWriteCredentials((secret, bearer, now) => {
    counter.calls += 1;
    return checkWriteCredential(secret, bearer, now);
  });
  return { counter, verify, now: NOW, token: await streamWriteToken(SECRET, 'colors', NOW) };
}

describe('write credentials remembered until their expiry', () => {
  it('checks a token once, then answers the same from memory', async () => {
    const { counter, verify, now, token } = await remembering();
    const first = await verify(SECRET, token, now);
    const later = await verify(SECRET, token, now + 60_000);
    expect(first).toEqual({ ok: true, scope: 'colors', how: 'token', expiresAt: now / 1000 + WRITE_TOKEN_TTL_SECONDS });
    expect(later).toEqual(first);
    expect(counter.calls).toBe(1);
  });

  it('refuses a remembered token once it has expired, with the full check\'s reason', async () => {
    const { counter, verify, now, token } = await remembering();
    expect((await verify(SECRET, token, now)).ok).toBe(true);
    const expired = await verify(SECRET, token, now + WRITE_TOKEN_TTL_SECONDS * 1000);
    expect(expired).toMatchObject({ ok: false, reason: expect.stringContaining('write token expired') });
    expect(counter.calls).toBe(2);
  });

  it('does not take a token remembered under one secret for another secret, and never remembers a refusal', async () => {
    const { counter, verify, now, token } = await remembering();
    expect((await verify(SECRET, token, now)).ok).toBe(true);
    expect(await verify('a-rotated-secret', token, now)).toEqual({ ok: false, reason: 'wrong ingest secret or write token' });
    expect(await verify('a-rotated-secret', token, now)).toEqual({ ok: false, reason: 'wrong ingest secret or write token' });
    const forged = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
    expect((await verify(SECRET, forged, now)).ok).toBe(false);
    expect((await verify(SECRET, forged, now)).ok).toBe(false);
    expect(counter.calls).toBe(5);
  });
});
