import { describe, expect, it, vi } from 'vitest';
import { hmacSha256Base64Url } from '../../../shared/hmac.ts';
import { partAnnouncementHeaders } from '../../../shared/low-latency.ts';
import { DEVELOPMENT_INGEST_SECRET, streamWriteToken, WRITE_API_MAX_BYTES, WRITE_TOKEN_TTL_SECONDS } from '../../../shared/write-api.ts';
import { edgeAppForTest, putStreamStatus, TEST_SECRET } from '../../helpers/edge-app.ts';

const auth = { authorization: `Bearer ${TEST_SECRET}` };

function put(path: string, headers: Record<string, string | undefined>, body: Uint8Array | string = 'x') {
  const defined = Object.fromEntries(Object.entries(headers).filter((entry): entry is [string, string] => entry[1] !== undefined));
  return { path: `/_ingest/objects/${path}`, init: { method: 'PUT', headers: defined, body } };
}

describe('edge write API', () => {
  it('stores a layout object with its content type, and the edge then serves it', async () => {
    const { app, store } = edgeAppForTest();
    await putStreamStatus(store, 'colors');
    const request = put('streams/colors/source/abcdefgh1-3.m4s', { ...auth, 'content-type': 'video/mp4' }, new Uint8Array([9, 9]));
    const response = await app.request(request.path, request.init);
    expect(response.status).toBe(201);
    expect(store.objects.get('streams/colors/source/abcdefgh1-3.m4s')).toMatchObject({ contentType: 'video/mp4' });
    const served = await app.request('/live/colors/source/abcdefgh1-3.m4s');
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(new Uint8Array([9, 9]));
  });

  const refusals = [
    { name: 'no credentials', path: 'streams/colors/index.m3u8', headers: { 'content-type': 'application/vnd.apple.mpegurl' }, status: 401 },
    { name: 'a wrong secret', path: 'streams/colors/index.m3u8', headers: { authorization: 'Bearer nope', 'content-type': 'application/vnd.apple.mpegurl' }, status: 403 },
    { name: 'a secret that is a prefix of the real one', path: 'streams/colors/index.m3u8', headers: { authorization: `Bearer ${TEST_SECRET.slice(0, 5)}`, 'content-type': 'application/vnd.apple.mpegurl' }, status: 403 },
    // URL parsing resolves dot segments before any handler runs; what is left must still be a layout key.
    { name: 'a key climbing out of the streams prefix', path: 'streams/colors/../../worker.js', headers: { ...auth, 'content-type': 'application/vnd.apple.mpegurl' }, status: 400 },
    { name: 'an encoded separator', path: 'streams/colors/source%2Findex.m3u8', headers: { ...auth, 'content-type': 'application/vnd.apple.mpegurl' }, status: 400 },
    { name: 'an encoded dot-dot', path: 'streams/colors/%2E%2E/index.m3u8', headers: { ...auth, 'content-type': 'application/vnd.apple.mpegurl' }, status: 400 },
    { name: 'an encoded control character', path: 'streams/colors/index.m3u8%0A', headers: { ...auth, 'content-type': 'application/vnd.apple.mpegurl' }, status: 400 },
    { name: 'a key outside any stream', path: 'worker.js', headers: { ...auth, 'content-type': 'application/vnd.apple.mpegurl' }, status: 400 },
    { name: 'a wrong content type for a segment', path: 'streams/colors/source/abcdefgh1-3.m4s', headers: { ...auth, 'content-type': 'text/html' }, status: 415 },
    { name: 'a playlist sent as video', path: 'streams/colors/index.m3u8', headers: { ...auth, 'content-type': 'video/mp4' }, status: 415 },
    { name: 'a declared size over the limit', path: 'streams/colors/source/abcdefgh1-3.m4s', headers: { ...auth, 'content-type': 'video/mp4', 'content-length': String(WRITE_API_MAX_BYTES + 1) }, status: 413 },
  ];

  it.each(refusals)('refuses $name with $status and stores nothing', async ({ path, headers, status }) => {
    const { app, store } = edgeAppForTest();
    const request = put(path, headers);
    const response = await app.request(request.path, request.init);
    expect(response.status).toBe(status);
    expect(await response.json()).toMatchObject({ error: expect.any(String) });
    expect(store.objects.size).toBe(0);
  });

  it('takes a stream write token for its own stream only, and refuses forged ones', async () => {
    const { app, store } = edgeAppForTest();
    const token = await streamWriteToken(TEST_SECRET, 'colors');
    const write = (path: string, bearer: string) => {
      const request = put(path, { authorization: `Bearer ${bearer}`, 'content-type': 'video/mp4' }, new Uint8Array([7]));
      return app.request(request.path, request.init);
    };
    expect((await write('streams/colors/source/abcdefgh1-0.m4s', token)).status).toBe(201);
    const elsewhere = await write('streams/other/source/abcdefgh1-0.m4s', token);
    expect(elsewhere.status).toBe(403);
    expect(await elsewhere.json()).toEqual({ error: expect.stringContaining('for stream "colors"') });
    const forged = `w1.other.${token.split('.')[2]}`;
    expect((await write('streams/other/source/abcdefgh1-0.m4s', forged)).status).toBe(403);
    expect((await write('streams/colors/source/abcdefgh1-1.m4s', await streamWriteToken('another secret', 'colors'))).status).toBe(403);
    expect([...store.objects.keys()]).toEqual(['streams/colors/source/abcdefgh1-0.m4s']);
    // Deletes are scoped the same way.
    expect((await app.request('/_ingest/objects/streams/other/source/abcdefgh1-0.m4s', { method: 'DELETE', headers: { authorization: `Bearer ${token}` } })).status).toBe(403);
  });

  it('deletes media segments and init segments, never playlists, and only with the secret', async () => {
    const { app, store } = edgeAppForTest();
    for (const key of ['streams/colors/source/abcdefgh1-3.m4s', 'streams/colors/source/init-abcdefgh1.mp4']) {
      await store.put(key, new Uint8Array([1]), { contentType: 'video/mp4' });
    }
    await store.put('streams/colors/source/index.m3u8', '#EXTM3U\n', { contentType: 'application/vnd.apple.mpegurl' });
    const remove = (path: string, headers: Record<string, string> = auth) => app.request(`/_ingest/objects/${path}`, { method: 'DELETE', headers });
    expect((await remove('streams/colors/source/abcdefgh1-3.m4s', {})).status).toBe(401);
    expect(store.objects.has('streams/colors/source/abcdefgh1-3.m4s')).toBe(true);
    expect((await remove('streams/colors/source/abcdefgh1-3.m4s')).status).toBe(204);
    expect((await remove('streams/colors/source/init-abcdefgh1.mp4')).status).toBe(204);
    expect((await remove('streams/colors/source/abcdefgh1-3.m4s')).status).toBe(204);
    const playlist = await remove('streams/colors/source/index.m3u8');
    expect(playlist.status).toBe(405);
    expect(await playlist.json()).toMatchObject({ error: expect.stringContaining('never deleted') });
    expect([...store.objects.keys()]).toEqual(['streams/colors/source/index.m3u8']);
  });

  it('answers a write storage failed with a 503 to retry, never a 500 with a stack, and logs it at most every 10 s with how many failed since', async () => {
    const { app, store } = edgeAppForTest();
    await putStreamStatus(store, 'colors');
    const logged: string[] = [];
    const originalError = console.error;
    console.error = (...args: unknown[]) => void logged.push(args.map(String).join(' '));
    const originalPut = store.put.bind(store);
    const originalDelete = store.delete.bind(store);
    store.put = () => Promise.reject(new Error('PUT streams/colors/index.m3u8: 503 SlowDown'));
    store.delete = () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:9000'));
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      const request = put('streams/colors/index.m3u8', { ...auth, 'content-type': 'application/vnd.apple.mpegurl' }, '#EXTM3U\n');
      const refused = await app.request(request.path, request.init);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).toBe('1');
      expect(await refused.json()).toEqual({ error: 'storage did not take the write; try again shortly' });
      const remove = () => app.request('/_ingest/objects/streams/colors/source/abcdefgh1-3.m4s', { method: 'DELETE', headers: auth });
      // Every refused write is a 503; the log says it once, then again 10 s later with the count between.
      for (let again = 0; again < 3; again++) expect((await remove()).status).toBe(503);
      vi.advanceTimersByTime(9_000);
      expect((await remove()).status).toBe(503);
      expect(logged).toEqual(['edge: storage write of streams/colors/index.m3u8 failed: PUT streams/colors/index.m3u8: 503 SlowDown']);
      vi.advanceTimersByTime(1_000);
      expect((await remove()).status).toBe(503);
      expect(logged).toEqual([
        'edge: storage write of streams/colors/index.m3u8 failed: PUT streams/colors/index.m3u8: 503 SlowDown',
        'edge: storage write of streams/colors/source/abcdefgh1-3.m4s failed: connect ECONNREFUSED 127.0.0.1:9000 (and 4 more like it since the last such line)',
      ]);
    } finally {
      vi.useRealTimers();
      console.error = originalError;
      store.put = originalPut;
      store.delete = originalDelete;
    }
    // Storage back: the retry is stored.
    const retried = put('streams/colors/index.m3u8', { ...auth, 'content-type': 'application/vnd.apple.mpegurl' }, '#EXTM3U\n');
    expect((await app.request(retried.path, retried.init)).status).toBe(201);
  });

  it('is disabled, with a reason, when the edge has no secret', async () => {
    const { app, store } = edgeAppForTest({ secret: undefined });
    const request = put('streams/colors/index.m3u8', { authorization: 'Bearer ', 'content-type': 'application/vnd.apple.mpegurl' });
    const response = await app.request(request.path, request.init);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ error: expect.stringMatching(/INGEST_SECRET/) });
    expect(store.objects.size).toBe(0);
  });

  it.each([
    { name: 'an expired write token', token: () => streamWriteToken(TEST_SECRET, 'colors', Date.now() - WRITE_TOKEN_TTL_SECONDS * 1000 - 1000), reason: 'expired' },
    { name: 'a write token expiring days ahead', token: () => streamWriteToken(TEST_SECRET, 'colors', Date.now() + 3 * 86_400_000), reason: 'too far ahead' },
    { name: 'a w1 write token (no expiry)', token: async () => `w1.colors.${await hmacSha256Base64Url(TEST_SECRET, 'write:v1:colors')}`, reason: 'no longer accepted' },
  ])('refuses $name with 403 and a reason, storing nothing', async ({ token, reason }) => {
    const { app, store } = edgeAppForTest();
    const request = put('streams/colors/source/abcdefgh1-0.m4s', { authorization: `Bearer ${await token()}`, 'content-type': 'video/mp4' });
    const response = await app.request(request.path, request.init);
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ error: expect.stringContaining(reason) });
    expect(store.objects.size).toBe(0);
  });

  it.each([
    { name: 'the secret, to a loopback host', origin: 'http://127.0.0.1:8080', headers: {}, token: false, status: 201 },
    { name: 'a token from it, to localhost', origin: 'http://localhost:8080', headers: {}, token: true, status: 201 },
    { name: 'the secret, to a public host', origin: 'https://edge.example.com', headers: {}, token: false, status: 403 },
    { name: 'a token from it, to a public host', origin: 'https://edge.example.com', headers: {}, token: true, status: 403 },
    { name: 'the secret, to a loopback host from a remote client', origin: 'http://127.0.0.1:8080', headers: { 'cf-connecting-ip': '203.0.113.9' }, token: false, status: 403 },
  ])('with the development secret configured, a write by $name answers $status', async ({ origin, headers, token, status }) => {
    const { app, store } = edgeAppForTest({ secret: DEVELOPMENT_INGEST_SECRET });
    const bearer = token ? await streamWriteToken(DEVELOPMENT_INGEST_SECRET, 'colors') : DEVELOPMENT_INGEST_SECRET;
    const request = put('streams/colors/index.m3u8', { authorization: `Bearer ${bearer}`, 'content-type': 'application/vnd.apple.mpegurl', ...headers }, '#EXTM3U\n');
    const response = await app.request(`${origin}${request.path}`, request.init);
    expect(response.status).toBe(status);
    if (status === 403) {
      expect(await response.json()).toEqual({ error: expect.stringContaining('set INGEST_SECRET on the edge and the sidecar to the same random value') });
      expect(store.objects.size).toBe(0);
    }
  });

  it.each([
    { kind: 'object', key: 'streams/colors/source/abcdefgh1-3.m4s', headers: {}, limit: WRITE_API_MAX_BYTES },
    { kind: 'part', key: 'streams/colors/source/abcdefgh1-3.p0.m4s', headers: partAnnouncementHeaders({ msn: 3, duration: 0.333, independent: true, next: 'abcdefgh1-3.p1.m4s', partTarget: 0.334 }), limit: 8 * 1024 * 1024 },
  ])('stops reading a chunked $kind at its limit: 413, the upload cancelled, nothing stored', async ({ key, headers, limit }) => {
    const { app, store } = edgeAppForTest({ lowLatency: true });
    const chunk = new Uint8Array(1024 * 1024);
    let pulled = 0;
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= 3 * limit) return controller.close();
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
      cancel() {
        cancelled = true;
      },
    });
    // Three times the limit, made as it is read, with no Content-Length.
    const init: RequestInit & { duplex: 'half' } = { method: 'PUT', headers: { ...auth, 'content-type': 'video/mp4', ...headers }, body, duplex: 'half' };
    const response = await app.request(`/_ingest/objects/${key}`, init);
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ error: expect.stringContaining(`limited to ${limit} bytes`) });
    expect(cancelled).toBe(true);
    expect(pulled).toBeLessThanOrEqual(limit + 2 * chunk.byteLength);
    expect(store.objects.size).toBe(0);
  });
});
