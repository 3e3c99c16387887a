import { describe, expect, it } from 'vitest';
import { mintPlaybackToken, verifyPlaybackToken } from '../../shared/playback-token.ts';

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

  it('refuses to mint without a secret or with a bad expiry', async () => {
    await expect(mintPlaybackToken('', 'colors', IN_AN_HOUR)).rejects.toThrow(/PLAYBACK_SECRET/);
    await expect(mintPlaybackToken(SECRET, 'colors', 1.5)).rejects.toThrow(/epoch seconds/);
  });
});
