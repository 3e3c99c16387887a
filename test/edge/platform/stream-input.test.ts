/** What the management API accepts: table-driven, each refusal with its reason. */
import { describe, expect, it } from 'vitest';
import { InputError, parseCreateBody, parseImportBody, parseListQuery, parseTokenBody, parseUpdateBody } from '../../../edge/platform/stream-input.ts';

describe('parseCreateBody', () => {
  it.each([
    { input: { name: 'main' }, expected: { name: 'main', settings: {} } },
    { input: { name: 'a-1', playback: 'signed', reconnectWindowSeconds: 0, retention: 'all', enabled: false }, expected: { name: 'a-1', settings: { playback: 'signed', reconnectWindowSeconds: 0, retention: 'all', enabled: false } } },
    { input: { name: 'x'.repeat(63), retention: null }, expected: { name: 'x'.repeat(63), settings: { retention: null } } },
    { input: { name: 'hooked', webhookUrls: ['https://hooks.example.com/live'] }, expected: { name: 'hooked', settings: { webhookUrls: ['https://hooks.example.com/live'] } } },
  ])('accepts $input', ({ input, expected }) => {
    expect(parseCreateBody(input)).toEqual(expected);
  });

  it.each([
    { input: null, reason: /JSON object/ },
    { input: [], reason: /JSON object/ },
    { input: {}, reason: /stream names/ },
    { input: { name: 'Main' }, reason: /stream names/ },
    { input: { name: '-main' }, reason: /stream names/ },
    { input: { name: 'x'.repeat(64) }, reason: /stream names/ },
    { input: { name: "main'; DROP TABLE streams; --" }, reason: /stream names/ },
    { input: { name: 'main', playback: 'private' }, reason: /playback must be/ },
    { input: { name: 'main', reconnectWindowSeconds: -1 }, reason: /reconnectWindowSeconds/ },
    { input: { name: 'main', reconnectWindowSeconds: 3601 }, reason: /reconnectWindowSeconds/ },
    { input: { name: 'main', reconnectWindowSeconds: 1.5 }, reason: /reconnectWindowSeconds/ },
    { input: { name: 'main', reconnectWindowSeconds: '10' }, reason: /reconnectWindowSeconds/ },
    { input: { name: 'main', retention: 'forever' }, reason: /retention/ },
    { input: { name: 'main', enabled: 'yes' }, reason: /enabled/ },
    { input: { name: 'main', keySha256: 'a'.repeat(64) }, reason: /unknown field "keySha256"/ },
    { input: { name: 'main', webhookUrls: ['javascript:alert(1)'] }, reason: /webhookUrls/ },
    { input: { name: 'main', webhookUrls: 'https://hooks.example.com' }, reason: /webhookUrls/ },
    { input: { name: 'main', webhookUrls: Array(6).fill('https://hooks.example.com') }, reason: /webhookUrls/ },
  ])('refuses $input', ({ input, reason }) => {
    expect(() => parseCreateBody(input)).toThrow(InputError);
    expect(() => parseCreateBody(input)).toThrow(reason);
  });
});

describe('parseUpdateBody', () => {
  it('takes a partial update', () => {
    expect(parseUpdateBody({ enabled: false })).toEqual({ enabled: false });
    expect(parseUpdateBody({ reconnectWindowSeconds: null })).toEqual({ reconnectWindowSeconds: null });
  });

  it.each([{ input: {} }, { input: { name: 'other' } }, { input: { playback: 1 } }])('refuses $input', ({ input }) => {
    expect(() => parseUpdateBody(input)).toThrow(InputError);
  });
});

describe('parseListQuery', () => {
  it.each([
    { limit: undefined, cursor: undefined, expected: { limit: 50 } },
    { limit: '1', cursor: 'main', expected: { limit: 1, after: 'main' } },
    { limit: '100', cursor: undefined, expected: { limit: 100 } },
  ])('limit $limit cursor $cursor', ({ limit, cursor, expected }) => {
    expect(parseListQuery(limit, cursor)).toEqual(expected);
  });

  it.each([{ limit: '0' }, { limit: '101' }, { limit: '1e2' }, { limit: '-1' }, { limit: ' 5' }, { limit: '5', cursor: "' OR 1=1" }])('refuses $limit / $cursor', ({ limit, cursor }) => {
    expect(() => parseListQuery(limit, cursor)).toThrow(InputError);
  });
});

describe('parseTokenBody and parseImportBody', () => {
  it('defaults a token to an hour and bounds it', () => {
    expect(parseTokenBody(undefined)).toEqual({ ttlSeconds: 3600 });
    expect(() => parseTokenBody({ ttlSeconds: 0 })).toThrow(InputError);
    expect(() => parseTokenBody({ ttlSeconds: 8 * 24 * 3600 })).toThrow(InputError);
  });

  it('imports a streams.json entry as written by the sidecar, and refuses a bad hash', () => {
    const entry = { name: 'main', playbackId: 'k3x9abc', keySha256: 'a'.repeat(64), createdAt: '2026-12-01T00:00:00.000Z', keyRotatedAt: '2026-12-02T00:00:00.000Z' };
    expect(parseImportBody({ streams: [entry] })).toEqual([{ ...entry, playback: 'public' }]);
    expect(() => parseImportBody({ streams: [{ ...entry, keySha256: 'A'.repeat(64) }] })).toThrow(/keySha256/);
    expect(() => parseImportBody({ streams: [{ ...entry, createdAt: 'yesterday' }] })).toThrow(/createdAt/);
  });
});
