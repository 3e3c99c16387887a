import { describe, expect, it } from 'vitest';
import { hmacSha256Base64Url } from '../../shared/hmac.ts';
import { checkWriteCredential, streamWriteToken, WRITE_TOKEN_MAX_AHEAD_SECONDS, WRITE_TOKEN_TTL_SECONDS, writeScope, writeTokenExpiry } from '../../shared/write-api.ts';

const SECRET = 'an ingest secret of some length';
const NOW = Date.parse('2026-11-24T12:00:00Z');
const NOW_SECONDS = NOW / 1000;

/** A token as the minting clock at `mintedAt` (epoch ms) makes it. */
const mintedAt = (mintedAt: number, playbackId = 'colors', secret = SECRET) => streamWriteToken(secret, playbackId, mintedAt);

describe('stream write tokens (w2.STREAM.EXPIRY.SIG)', () => {
  it('carry their stream and an expiry one token life ahead', async () => {
    const token = await mintedAt(NOW);
    expect(token).toMatch(/^w2\.colors\.\d+\.[A-Za-z0-9_-]{43}$/);
    expect(writeTokenExpiry(token)).toBe(NOW_SECONDS + WRITE_TOKEN_TTL_SECONDS);
    expect(writeTokenExpiry('nonsense')).toBeUndefined();
  });

  const cases: { name: string; token: () => Promise<string>; expected: Awaited<ReturnType<typeof checkWriteCredential>> }[] = [
    { name: 'the ingest secret itself', token: async () => SECRET, expected: { ok: true, scope: '*', how: 'secret' } },
    { name: 'a fresh token', token: () => mintedAt(NOW), expected: { ok: true, scope: 'colors', how: 'token', expiresAt: NOW_SECONDS + WRITE_TOKEN_TTL_SECONDS } },
    { name: 'a token one second before it expires', token: () => mintedAt(NOW - WRITE_TOKEN_TTL_SECONDS * 1000 + 1000), expected: { ok: true, scope: 'colors', how: 'token', expiresAt: NOW_SECONDS + 1 } },
    { name: 'a token at its expiry', token: () => mintedAt(NOW - WRITE_TOKEN_TTL_SECONDS * 1000), expected: { ok: false, reason: expect.stringContaining('expired') } },
    // A sidecar clock a few minutes ahead of the edge's is tolerated; a token for days ahead is not ours.
    { name: 'a token from a clock 5 minutes ahead', token: () => mintedAt(NOW + (WRITE_TOKEN_MAX_AHEAD_SECONDS - WRITE_TOKEN_TTL_SECONDS) * 1000), expected: { ok: true, scope: 'colors', how: 'token', expiresAt: NOW_SECONDS + WRITE_TOKEN_MAX_AHEAD_SECONDS } },
    { name: 'a token expiring too far ahead', token: () => mintedAt(NOW + (WRITE_TOKEN_MAX_AHEAD_SECONDS - WRITE_TOKEN_TTL_SECONDS + 1) * 1000), expected: { ok: false, reason: expect.stringContaining('too far ahead') } },
    { name: 'a token for the year 33658', token: async () => (await mintedAt(NOW)).replace(/\.\d+\./, '.999999999999.'), expected: { ok: false, reason: 'wrong ingest secret or write token' } },
    { name: 'a token minted under another secret', token: () => mintedAt(NOW, 'colors', 'another secret'), expected: { ok: false, reason: 'wrong ingest secret or write token' } },
    { name: "another stream's signature under this stream's name", token: async () => (await mintedAt(NOW, 'other')).replace('.other.', '.colors.'), expected: { ok: false, reason: 'wrong ingest secret or write token' } },
    { name: 'a later expiry with the old signature', token: async () => (await mintedAt(NOW)).replace(/\.\d+\./, `.${NOW_SECONDS + 60}.`), expected: { ok: false, reason: 'wrong ingest secret or write token' } },
    { name: 'a w1 token (no expiry), even a valid one', token: async () => `w1.colors.${await hmacSha256Base64Url(SECRET, 'write:v1:colors')}`, expected: { ok: false, reason: expect.stringContaining('w1 write tokens') } },
    { name: 'garbage', token: async () => 'w2.colors.x.y', expected: { ok: false, reason: 'wrong ingest secret or write token' } },
  ];

  it.each(cases)('$name', async ({ token, expected }) => {
    const bearer = await token();
    expect(await checkWriteCredential(SECRET, bearer, NOW)).toEqual(expected);
    expect(await writeScope(SECRET, bearer, NOW)).toBe(expected.ok ? expected.scope : undefined);
  });
});
