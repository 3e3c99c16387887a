/**
 * A stream's documents on its live channel, against a real Node edge (ws under
 * @hono/node-server): playlists, the MPD and the status are written by the edge from the channel,
 * with no HTTP request, and a media playlist reaches the edge's live state; when the edge does
 * not write one, or the stream has no channel, it goes over the write API instead. Everything
 * that is not a document goes over HTTP as before.
 */
import type { AddressInfo } from 'node:net';
import { serve, upgradeWebSocket, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { createApp } from '../../../edge/app.ts';
import { InProcessCoordinator } from '../../../edge/low-latency/coordinator.ts';
import { channelDocumentStore } from '../../../ingest/upload/channel-documents.ts';
import { EdgeObjectStore } from '../../../ingest/upload/edge-object-store.ts';
import { LiveChannels } from '../../../ingest/upload/live-channels.ts';
import { DASH_MPD_TYPE, HLS_PLAYLIST_TYPE, JSON_TYPE, VIDEO_MP4_TYPE } from '../../../shared/media-types.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import type { PutOptions } from '../../../shared/storage/object-store.ts';

const secret = 'channel-documents-secret';

/** The edge's storage: every write counted; `refuseNext` fails the next write once. */
class EdgeStore extends MemoryObjectStore {
  readonly writes: string[] = [];
  refuseNext = false;
  override async put(key: string, body: Uint8Array | string, options: PutOptions): Promise<void> {
    if (this.refuseNext) {
      this.refuseNext = false;
      throw new Error('bucket unreachable');
    }
    this.writes.push(key);
    await super.put(key, body, options);
  }
}

/** The sidecar's HTTP path to the edge, counting its PUTs. */
class CountedHttp extends EdgeObjectStore {
  readonly puts: string[] = [];
  override put(key: string, body: Uint8Array | string, options: PutOptions): Promise<void> {
    this.puts.push(key);
    return super.put(key, body, options);
  }
}

let server: ServerType;
let sockets: WebSocketServer;
let store: EdgeStore;
let coordinator: InProcessCoordinator;
let base = '';
let channels: LiveChannels;
let http: CountedHttp;

beforeAll(async () => {
  store = new EdgeStore();
  coordinator = new InProcessCoordinator(store, { upgradeWebSocket });
  const app = createApp({ store, ingestSecret: secret, lowLatency: coordinator, assets: { hlsJsVersion: '1', hlsJsSource: '', dashJsVersion: '1', dashJsSource: '' } });
  sockets = new WebSocketServer({ noServer: true });
  server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0, websocket: { server: sockets } });
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  channels = new LiveChannels({ edgeUrl: base, secret, sidecarId: 'sidecar-docs', partLifetimeMs: 6000, log: { warn: () => undefined } });
  http = new CountedHttp({ baseUrl: base, secret, timeoutMs: 5000 });
});

afterAll(() => {
  channels.releaseAll();
  http.close();
  for (const socket of sockets.clients) socket.terminate();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

const playlist = '#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:3\n#EXTINF:2.000,\ndocsess1-6000.m4s\n';
const text = async (key: string) => {
  const object = await store.get(key);
  return object ? { text: await new Response(object.body).text(), contentType: object.contentType } : undefined;
};

describe("a stream's documents on its live channel, sidecar to edge", () => {
  it('are written by the edge from the channel with no HTTP request; a media playlist reaches the live state', async () => {
    expect(await channels.acquire('docs', () => undefined, 30_000)).toEqual({ ok: true });
    const sidecar = channelDocumentStore(http, channels);
    const puts = http.puts.length;
    await sidecar.put('streams/docs/source/index.m3u8', playlist, { contentType: HLS_PLAYLIST_TYPE });
    await sidecar.put('streams/docs/index.m3u8', '#EXTM3U\n', { contentType: HLS_PLAYLIST_TYPE });
    await sidecar.put('streams/docs/manifest.mpd', '<MPD/>', { contentType: DASH_MPD_TYPE });
    await sidecar.put('streams/docs/status.json', '{"state":"live"}', { contentType: JSON_TYPE });
    expect(http.puts.slice(puts)).toEqual([]);
    expect(await text('streams/docs/source/index.m3u8')).toEqual({ text: playlist, contentType: HLS_PLAYLIST_TYPE });
    expect(await text('streams/docs/manifest.mpd')).toEqual({ text: '<MPD/>', contentType: DASH_MPD_TYPE });
    expect(await text('streams/docs/status.json')).toEqual({ text: '{"state":"live"}', contentType: JSON_TYPE });
    const live = await coordinator.stream('docs')!.playlist({ rendition: 'source', skip: false });
    expect(live.kind === 'playlist' && live.text).toContain('docsess1-6000.m4s');

    // A segment is media, not a document: over HTTP as before.
    await sidecar.put('streams/docs/source/docsess1-6000.m4s', new Uint8Array(10), { contentType: VIDEO_MP4_TYPE });
    expect(http.puts.slice(puts)).toEqual(['streams/docs/source/docsess1-6000.m4s']);
  });

  it('goes over HTTP when the edge did not write it, and is stored all the same', async () => {
    const sidecar = channelDocumentStore(http, channels);
    const puts = http.puts.length;
    store.refuseNext = true;
    await sidecar.put('streams/docs/status.json', '{"state":"live","n":2}', { contentType: JSON_TYPE });
    expect(http.puts.slice(puts)).toEqual(['streams/docs/status.json']);
    expect((await text('streams/docs/status.json'))?.text).toBe('{"state":"live","n":2}');
  });

  it('goes over HTTP when the stream has no channel (released, or never taken)', async () => {
    channels.release('docs');
    const sidecar = channelDocumentStore(http, channels);
    const puts = http.puts.length;
    await sidecar.put('streams/docs/status.json', '{"state":"ended"}', { contentType: JSON_TYPE });
    await sidecar.put('streams/other/source/index.m3u8', playlist, { contentType: HLS_PLAYLIST_TYPE });
    expect(http.puts.slice(puts)).toEqual(['streams/docs/status.json', 'streams/other/source/index.m3u8']);
    expect((await text('streams/docs/status.json'))?.text).toBe('{"state":"ended"}');
  });
});
