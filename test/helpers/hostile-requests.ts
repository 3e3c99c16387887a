/**
 * Hostile requests to the edge, as a table, run against the app over an in-memory store (Node)
 * and inside workerd over R2 (test/workers): every one gets a clear 4xx with a JSON reason, no
 * storage key outside the requested stream's prefix is read, and nothing is written or deleted.
 */
import { describe, expect, it } from 'vitest';
import type { Hono } from 'hono';
import type { ByteRange, ObjectStore, PutOptions } from '../../shared/storage/object-store.ts';
import { mintPlaybackToken } from '../../shared/playback-token.ts';
import { hmacSha256Base64Url } from '../../shared/hmac.ts';
import { DEVELOPMENT_INGEST_SECRET, streamWriteToken, WRITE_TOKEN_TTL_SECONDS } from '../../shared/write-api.ts';
import { partAnnouncementHeaders } from '../../shared/low-latency.ts';

export const HOSTILE_INGEST_SECRET = 'hostile-ingest-secret-0123456789';
export const HOSTILE_PLAYBACK_SECRET = 'hostile-playback-secret-0123456789';

/** Wraps a store and records every key the edge reads, writes or deletes. */
export function recordingStore(inner: ObjectStore): ObjectStore & { read: string[]; changed: string[] } {
  const read: string[] = [];
  const changed: string[] = [];
  return {
    read,
    changed,
    get: (key: string, range?: ByteRange) => {
      read.push(key);
      return inner.get(key, range);
    },
    head: (key: string) => {
      read.push(key);
      return inner.head(key);
    },
    put: (key: string, body: Uint8Array | string, options: PutOptions) => {
      changed.push(key);
      return inner.put(key, body, options);
    },
    delete: (key: string) => {
      changed.push(key);
      return inner.delete(key);
    },
  };
}

interface HostileCase {
  name: string;
  path: string;
  init?: RequestInit;
  /** The stream whose prefix the request may read (undefined: none at all). */
  stream?: string;
  /** The edge's INGEST_SECRET for this case (default HOSTILE_INGEST_SECRET). */
  ingestSecret?: string;
}

/** A body of `size` bytes made as it is read, sent without Content-Length (chunked). */
function chunkedBody(size: number): ReadableStream<Uint8Array> {
  const chunk = new Uint8Array(1024 * 1024);
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= size) return controller.close();
      sent += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
}

async function cases(): Promise<HostileCase[]> {
  // Expiries are epoch seconds.
  const nowSeconds = Math.floor(Date.now() / 1000);
  const expired = await mintPlaybackToken(HOSTILE_PLAYBACK_SECRET, 'vip', nowSeconds - 60);
  const forOther = await mintPlaybackToken(HOSTILE_PLAYBACK_SECRET, 'other', nowSeconds + 60);
  const forged = await mintPlaybackToken('not-the-secret', 'vip', nowSeconds + 60);
  const otherWriter = `Bearer ${await streamWriteToken(HOSTILE_INGEST_SECRET, 'other')}`;
  const colorsWriter = `Bearer ${await streamWriteToken(HOSTILE_INGEST_SECRET, 'colors')}`;
  // Write tokens minted by a clock an hour and a second behind, or days ahead; and the retired format without an expiry.
  const expiredWriter = `Bearer ${await streamWriteToken(HOSTILE_INGEST_SECRET, 'colors', Date.now() - WRITE_TOKEN_TTL_SECONDS * 1000 - 1000)}`;
  const farFutureWriter = `Bearer ${await streamWriteToken(HOSTILE_INGEST_SECRET, 'colors', Date.now() + 30 * 86_400_000)}`;
  const w1Writer = `Bearer w1.colors.${await hmacSha256Base64Url(HOSTILE_INGEST_SECRET, 'write:v1:colors')}`;
  const developmentWriter = `Bearer ${await streamWriteToken(DEVELOPMENT_INGEST_SECRET, 'colors')}`;
  const farFuture = await mintPlaybackToken(HOSTILE_PLAYBACK_SECRET, 'vip', 999_999_999_999);
  // duplex: a stream body needs it in Node's Request (workerd ignores it).
  const put = (authorization: string | undefined, contentType: string, body: RequestInit['body'], extra: Record<string, string> = {}): RequestInit & { duplex: 'half' } => ({
    method: 'PUT',
    headers: { ...(authorization ? { authorization } : {}), 'content-type': contentType, ...extra },
    body,
    duplex: 'half',
  });
  const playlist = 'application/vnd.apple.mpegurl';
  const part = partAnnouncementHeaders({ msn: 1, duration: 0.3, independent: true, next: 'sa-1.p1.m4s', partTarget: 0.333 });
  return [
    // Traversal, in every encoding a path can carry.
    { name: 'double-encoded dot-dot', path: '/live/colors/%252e%252e/other/index.m3u8', stream: 'colors' },
    { name: 'an encoded slash', path: '/live/colors/source%2F..%2F..%2Fother%2Findex.m3u8', stream: 'colors' },
    { name: 'a backslash', path: '/live/colors/source\\..\\other/index.m3u8', stream: 'colors' },
    { name: 'an encoded backslash', path: '/live/colors/source%5C..%5Cindex.m3u8', stream: 'colors' },
    { name: 'a NUL byte', path: '/live/colors/source/index.m3u8%00.js', stream: 'colors' },
    { name: 'full-width dots', path: '/live/colors/%EF%BC%8E%EF%BC%8E/index.m3u8', stream: 'colors' },
    { name: 'overlong UTF-8 dots', path: '/live/colors/%C0%AE%C0%AE/index.m3u8', stream: 'colors' },
    { name: 'a dot-dot part name', path: '/live/colors/source/..p1.m4s', stream: 'colors' },
    { name: 'an unknown stream', path: '/live/nobody/index.m3u8', stream: 'nobody' },
    { name: 'a stream id with a dot', path: '/live/col.ors/index.m3u8' },
    { name: 'an overlong URL', path: `/live/colors/${'a'.repeat(10_000)}/index.m3u8` },
    { name: 'an overlong stream id', path: `/live/${'a'.repeat(65)}/index.m3u8` },
    // Bad query values.
    { name: 'max_height not a number', path: '/live/colors/index.m3u8?max_height=tall', stream: 'colors' },
    { name: 'a negative DVR window', path: '/live/colors/source/index.m3u8?dvr=-5', stream: 'colors' },
    { name: 'a token with markup', path: '/live/colors/index.m3u8?token=%3Cscript%3E', stream: 'colors' },
    { name: 'a token twice', path: '/live/colors/index.m3u8?token=a&token=b', stream: 'colors' },
    { name: '_HLS_part without _HLS_msn', path: '/live/colors/source/index.m3u8?_HLS_part=1', stream: 'colors' },
    { name: '_HLS_msn not a number', path: '/live/colors/source/index.m3u8?_HLS_msn=1e9', stream: 'colors' },
    { name: '_HLS_skip with a bad value', path: '/live/colors/source/index.m3u8?_HLS_skip=ALL', stream: 'colors' },
    // Signed playback.
    { name: 'a signed stream without a token', path: '/live/vip/index.m3u8', stream: 'vip' },
    { name: 'an expired token', path: `/live/vip/index.m3u8?token=${expired}`, stream: 'vip' },
    { name: "another stream's token", path: `/live/vip/source/index.m3u8?token=${forOther}`, stream: 'vip' },
    { name: 'a forged token', path: `/live/vip/source/sa-0.m4s?token=${forged}`, stream: 'vip' },
    { name: 'a token expiring in the year 33658', path: `/live/vip/index.m3u8?token=${farFuture}`, stream: 'vip' },
    // The write API.
    { name: 'a write without credentials', path: '/_ingest/objects/streams/colors/index.m3u8', init: put(undefined, playlist, '#EXTM3U\n') },
    { name: 'a write with a wrong secret', path: '/_ingest/objects/streams/colors/index.m3u8', init: put('Bearer wrong', playlist, '#EXTM3U\n') },
    { name: "a write with another stream's token", path: '/_ingest/objects/streams/colors/index.m3u8', init: put(otherWriter, playlist, '#EXTM3U\n') },
    { name: 'a write outside the layout', path: '/_ingest/objects/streams/colors/../other/index.m3u8', init: put(colorsWriter, playlist, '#EXTM3U\n') },
    { name: 'a write to an encoded traversal', path: '/_ingest/objects/streams/colors/%2e%2e%2fother/index.m3u8', init: put(colorsWriter, playlist, '#EXTM3U\n') },
    { name: 'a write with the wrong content type', path: '/_ingest/objects/streams/colors/source/sa-0.m4s', init: put(colorsWriter, 'text/html', '<html>') },
    { name: 'an oversized object', path: '/_ingest/objects/streams/colors/source/sa-0.m4s', init: put(colorsWriter, 'video/mp4', 'x', { 'content-length': String(65 * 1024 * 1024) }) },
    { name: 'an oversized part', path: '/_ingest/objects/streams/colors/source/sa-0.p0.m4s', init: put(colorsWriter, 'video/mp4', new Uint8Array(9 * 1024 * 1024), part) },
    { name: 'a part without its announcement', path: '/_ingest/objects/streams/colors/source/sa-0.p0.m4s', init: put(colorsWriter, 'video/mp4', new Uint8Array(10)) },
    { name: 'a part with a bad hint', path: '/_ingest/objects/streams/colors/source/sa-0.p0.m4s', init: put(colorsWriter, 'video/mp4', new Uint8Array(10), { ...part, 'x-part-next': '../../x' }) },
    { name: 'an oversized chunked object (no Content-Length)', path: '/_ingest/objects/streams/colors/source/sa-0.m4s', init: put(colorsWriter, 'video/mp4', chunkedBody(65 * 1024 * 1024)) },
    { name: 'an oversized chunked part (no Content-Length)', path: '/_ingest/objects/streams/colors/source/sa-0.p0.m4s', init: put(colorsWriter, 'video/mp4', chunkedBody(9 * 1024 * 1024), part) },
    { name: 'an expired write token', path: '/_ingest/objects/streams/colors/index.m3u8', init: put(expiredWriter, playlist, '#EXTM3U\n') },
    { name: 'a write token expiring 30 days ahead', path: '/_ingest/objects/streams/colors/index.m3u8', init: put(farFutureWriter, playlist, '#EXTM3U\n') },
    { name: 'a w1 write token (no expiry)', path: '/_ingest/objects/streams/colors/index.m3u8', init: put(w1Writer, playlist, '#EXTM3U\n') },
    // An edge left with the public development secret: it writes nothing from off this machine.
    { name: 'the development secret, to a public host', path: 'https://edge.example.com/_ingest/objects/streams/colors/index.m3u8', init: put(`Bearer ${DEVELOPMENT_INGEST_SECRET}`, playlist, '#EXTM3U\n'), ingestSecret: DEVELOPMENT_INGEST_SECRET },
    { name: 'a development write token, to a public host', path: 'https://edge.example.com/_ingest/objects/streams/colors/index.m3u8', init: put(developmentWriter, playlist, '#EXTM3U\n'), ingestSecret: DEVELOPMENT_INGEST_SECRET },
    { name: 'the development secret, to loopback through a proxy', path: 'http://127.0.0.1:8080/_ingest/objects/streams/colors/index.m3u8', init: put(`Bearer ${DEVELOPMENT_INGEST_SECRET}`, playlist, '#EXTM3U\n', { 'x-forwarded-for': '203.0.113.9' }), ingestSecret: DEVELOPMENT_INGEST_SECRET },
    { name: 'the development secret, to loopback from a remote client', path: 'http://127.0.0.1:8080/_ingest/objects/streams/colors/index.m3u8', init: put(`Bearer ${DEVELOPMENT_INGEST_SECRET}`, playlist, '#EXTM3U\n', { 'cf-connecting-ip': '203.0.113.9' }), ingestSecret: DEVELOPMENT_INGEST_SECRET },
    { name: 'deleting a playlist', path: '/_ingest/objects/streams/colors/source/index.m3u8', init: { method: 'DELETE', headers: { authorization: colorsWriter } } },
    // A recording's MP4 download (routes/recording-download.ts).
    { name: 'an MP4 download of an unknown recording', path: '/recordings/colors/r00000000abcd.mp4', stream: 'colors' },
    { name: 'an MP4 download with an encoded traversal', path: '/recordings/colors/..%2F..%2Fother%2Fr00000000abcd.mp4', stream: 'colors' },
    { name: 'an MP4 download named dot-dot', path: '/recordings/colors/...mp4', stream: 'colors' },
    { name: "a signed stream's MP4 download without a token", path: '/recordings/vip/r00000000abcd.mp4', stream: 'vip' },
  ];
}

/** Puts what the cases need to find: a public stream, a signed one, and one no case may read. */
export async function seedHostileStreams(store: ObjectStore): Promise<void> {
  for (const [playbackId, playback] of [['colors', 'public'], ['vip', 'signed'], ['other', 'public']] as const) {
    const status = { playbackId, state: 'live', startedAt: 0, updatedAt: Date.now(), targetDuration: 2, restarts: 0, renditions: [], playback };
    await store.put(`streams/${playbackId}/status.json`, JSON.stringify(status), { contentType: 'application/json' });
    await store.put(`streams/${playbackId}/index.m3u8`, '#EXTM3U\n', { contentType: 'application/vnd.apple.mpegurl' });
  }
}

/** `makeApp(ingestSecret)`: the edge over seeded storage, with that INGEST_SECRET. */
export function hostileRequestTests(makeApp: (ingestSecret: string) => Promise<{ app: Hono; store: ReturnType<typeof recordingStore> }>): void {
  describe('hostile requests to the edge', () => {
    it('answers each with a 4xx and a reason, reads nothing outside the requested stream, and changes nothing', async () => {
      const apps = new Map<string, Awaited<ReturnType<typeof makeApp>>>();
      for (const hostile of await cases()) {
        const ingestSecret = hostile.ingestSecret ?? HOSTILE_INGEST_SECRET;
        if (!apps.has(ingestSecret)) apps.set(ingestSecret, await makeApp(ingestSecret));
        const { app, store } = apps.get(ingestSecret)!;
        store.read.length = 0;
        store.changed.length = 0;
        const response = await app.request(hostile.path, hostile.init);
        expect(response.status, hostile.name).toBeGreaterThanOrEqual(400);
        expect(response.status, hostile.name).toBeLessThan(500);
        expect(response.headers.get('cache-control'), hostile.name).toBe('no-store');
        expect(await response.json(), hostile.name).toEqual({ error: expect.any(String) });
        for (const key of store.read) expect(hostile.stream !== undefined && key.startsWith(`streams/${hostile.stream}/`), `${hostile.name} read ${key}`).toBe(true);
        expect(store.changed, hostile.name).toEqual([]);
      }
    });
  });
}
