import { describe, expect, it } from 'vitest';
import { streamWriteToken, WRITE_API_MAX_BYTES } from '../../../shared/write-api.ts';
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

  it('is disabled, with a reason, when the edge has no secret', async () => {
    const { app, store } = edgeAppForTest({ secret: undefined });
    const request = put('streams/colors/index.m3u8', { authorization: 'Bearer ', 'content-type': 'application/vnd.apple.mpegurl' });
    const response = await app.request(request.path, request.init);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ error: expect.stringMatching(/INGEST_SECRET/) });
    expect(store.objects.size).toBe(0);
  });
});
