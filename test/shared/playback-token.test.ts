import { describe, expect, it } from 'vitest';
import { MAX_TOKEN_TTL_SECONDS, mintPlaybackToken, verifyPlaybackToken } from '../../shared/playback-token.ts';

const SECRET = 'a playback secret of some length';
const NOW = Date.parse('2026-11-24T12:00:00Z');
const IN_AN_HOUR = NOW / 1000 + 3600;

describe('playback tokens', () => {
  it('verifies a token for its stream until it expires', async () => {
    const token = await mintPlaybackToken(SECRET, 'colors', IN_AN_HOUR);
    expect(token).toMatch(/^\d+\.[A-Za-z0-9_-]{43}$/);
    expect(await verifyPlaybackToken(SECRET, token, 'colors', NOW)).toEqual({ ok: true, expiresAt: IN_AN_HOUR });
    expect(await verifyPlaybackToken(SECRET, token, 'colors', IN_AN_HOUR * 1000)).toMatchObject({ ok: false, status: 403, reason: expect.stringContaining('expired') });
  });

  it('refuses a missing token with 401, and a wrong, foreign, altered or malformed one with 403', async () => {
    const token = await mintPlaybackToken(SECRET, 'colors', IN_AN_HOUR);
    expect(await verifyPlaybackToken(SECRET, undefined, 'colors', NOW)).toMatchObject({ ok: false, status: 401 });
    expect(await verifyPlaybackToken(SECRET, token, 'other', NOW)).toMatchObject({ ok: false, status: 403, reason: expect.stringContaining('not valid') });
    expect(await verifyPlaybackToken('another secret', token, 'colors', NOW)).toMatchObject({ ok: false, status: 403 });
    // A later expiry with the old signature: the expiry is signed too.
    expect(await verifyPlaybackToken(SECRET, token.replace(/^\d+/, String(IN_AN_HOUR + 99_999)), 'colors', NOW)).toMatchObject({ ok: false, status: 403 });
    for (const bad of ['nonsense', `${IN_AN_HOUR}.short`, `.${token.split('.')[1]}`]) {
      expect(await verifyPlaybackToken(SECRET, bad, 'colors', NOW)).toMatchObject({ ok: false, status: 403, reason: 'malformed playback token' });
    }
  });

  // The secret can sign any expiry; the edge holds the 7-day cap itself (with 5 minutes for a minting clock ahead of the edge's).
  it.each([
    { name: 'the longest life', expiresAt: NOW / 1000 + MAX_TOKEN_TTL_SECONDS, ok: true },
    { name: 'the longest life from a clock 5 minutes ahead', expiresAt: NOW / 1000 + MAX_TOKEN_TTL_SECONDS + 300, ok: true },
    { name: 'a day beyond the longest life', expiresAt: NOW / 1000 + MAX_TOKEN_TTL_SECONDS + 86_400, ok: false },
    { name: 'the year 33658', expiresAt: 999_999_999_999, ok: false },
  ])('takes or refuses a token expiring at $name', async ({ expiresAt, ok }) => {
    const check = await verifyPlaybackToken(SECRET, await mintPlaybackToken(SECRET, 'colors', expiresAt), 'colors', NOW);
    expect(check).toEqual(ok ? { ok: true, expiresAt } : { ok: false, status: 403, reason: expect.stringContaining('too far ahead') });
  });

  it('refuses to mint without a secret or with a bad expiry', async () => {
    await expect(mintPlaybackToken('', 'colors', IN_AN_HOUR)).rejects.toThrow(/PLAYBACK_SECRET/);
    await expect(mintPlaybackToken(SECRET, 'colors', 1.5)).rejects.toThrow(/epoch seconds/);
  });
});
