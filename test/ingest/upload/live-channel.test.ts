/**
 * The sidecar's live channel against a real Node edge (ws under @hono/node-server): parts go in
 * order and none is lost when the connection drops mid-stream (the channel reconnects, sends its
 * last second's parts again and then what waited), and a stream held by another sidecar is refused.
 */
import type { AddressInfo } from 'node:net';
import { serve, upgradeWebSocket, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { createApp } from '../../../edge/app.ts';
import { InProcessCoordinator } from '../../../edge/low-latency/coordinator.ts';
import { LiveChannel } from '../../../ingest/upload/live-channel.ts';
import { LiveChannels } from '../../../ingest/upload/live-channels.ts';
import { WRITE_TOKEN_TTL_SECONDS } from '../../../shared/write-api.ts';
import type { PartFrame } from '../../../shared/live-channel-protocol.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import { outgoing } from './outgoing-parts.ts';

const secret = 'channel-client-secret';
const SESSION = 'clientsess1';
let server: ServerType;
let sockets: WebSocketServer;
let base = '';

const file = (index: number) => `${SESSION}-360000.p${index}.m4s`;
function part(index: number): PartFrame {
  return { rendition: 'source', file: file(index), contentType: 'video/mp4', bytes: new Uint8Array(2000).fill(index), msn: 2, duration: 0.1, independent: index === 0, next: file(index + 1), partTarget: 0.334 };
}
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  const store = new MemoryObjectStore();
  const app = createApp({ store, ingestSecret: secret, lowLatency: new InProcessCoordinator(store, { upgradeWebSocket }), assets: { hlsJsVersion: '1', hlsJsSource: '', dashJsVersion: '1', dashJsSource: '' } });
  sockets = new WebSocketServer({ noServer: true });
  server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0, websocket: { server: sockets } });
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // The stream's status lists its rendition, as the sidecar's does: the edge then holds a blocking
  // request for it even while the live state has not heard of it (a channel reopening).
  const playlist = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:2', '#EXT-X-MEDIA-SEQUENCE:0', `#EXT-X-MAP:URI="init-${SESSION}.mp4"`];
  for (let msn = 0; msn < 2; msn++) playlist.push('#EXTINF:2.00000,', `${SESSION}-${msn * 180000}.m4s`);
  for (const stream of ['dropped', 'held', 'renewed', 'bytes']) {
    await store.put(`streams/${stream}/status.json`, JSON.stringify({ playbackId: stream, state: 'live', startedAt: 0, updatedAt: 0, targetDuration: 2, reconnects: 0, renditions: [{ name: 'source', kind: 'video', codec: 'avc1.64001f', width: 640, height: 360, bandwidth: 1e6 }], playback: 'public', lowLatency: { partTarget: 0.334 } }), { contentType: 'application/json' });
    await store.put(`streams/${stream}/source/index.m3u8`, `${playlist.join('\n')}\n`, { contentType: 'application/vnd.apple.mpegurl' });
  }
});

afterAll(() => {
  for (const socket of sockets.clients) socket.terminate();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('live channel, sidecar side', () => {
  it('loses no part when the connection drops mid-stream', async () => {
    const trouble: string[] = [];
    const channels = new LiveChannels({ edgeUrl: base, secret, sidecarId: 'sidecar-a', partLifetimeMs: 6000, log: { warn: (line) => trouble.push(line) } });
    expect(await channels.acquire('dropped', () => undefined)).toEqual({ ok: true });
    const dropped: string[] = [];
    const report = { sent: () => undefined, dropped: (reason: string) => dropped.push(reason) };
    for (let index = 0; index < 12; index++) {
      channels.sendPart('dropped', outgoing(part(index)), report);
      await pause(100);
      // Cut from the edge's side without a close handshake, as a crashed proxy would.
      if (index === 4) for (const socket of sockets.clients) socket.terminate();
    }
    const text = await (await fetch(`${base}/live/dropped/source/index.m3u8?_HLS_msn=2&_HLS_part=11`)).text();
    channels.releaseAll();
    const listed = [...text.matchAll(/#EXT-X-PART:[^\n]*URI="([^"]+)"/g)].map((match) => match[1]);
    expect(listed).toEqual(Array.from({ length: 12 }, (_, index) => file(index)));
    expect(dropped).toEqual([]);
    expect(trouble.join('\n')).toMatch(/live channel to the edge closed/);
  });

  it('delivers each part byte for byte (a header fragment and the part\'s pieces, small ones joined, make one message at the edge)', async () => {
    const trouble: string[] = [];
    const channel = new LiveChannel({
      edgeUrl: base,
      secret,
      playbackId: 'bytes',
      lease: { sidecar: 'sidecar-bytes', broadcast: 'b1' },
      partLifetimeMs: 6000,
      onTrouble: (message) => trouble.push(message),
      onLeaseRefused: (reason) => trouble.push(`refused: ${reason}`),
    });
    try {
      expect(await channel.lease).toEqual({ ok: true });
      // Sizes across WebSocket's 7-bit, 16-bit and 64-bit payload lengths; bytes that differ from part to part.
      const sizes = [100, 40_000, 300_000];
      const sent = sizes.map((size, index) => ({ ...part(index), bytes: Uint8Array.from({ length: size }, (_, at) => (at * 7 + index * 31) & 0xff) }));
      for (const frame of sent) channel.sendPart(outgoing(frame), { sent: () => undefined, dropped: (reason) => trouble.push(`dropped: ${reason}`) });
      await (await fetch(`${base}/live/bytes/source/index.m3u8?_HLS_msn=2&_HLS_part=${sizes.length - 1}`, { signal: AbortSignal.timeout(5000) })).text();
      for (const frame of sent) {
        const response = await fetch(`${base}/live/bytes/source/${frame.file}`, { signal: AbortSignal.timeout(5000) });
        expect(response.status, frame.file).toBe(200);
        expect(new Uint8Array(await response.arrayBuffer())).toEqual(frame.bytes);
      }
      expect(trouble).toEqual([]);
    } finally {
      channel.release();
    }
  });

  it('opens its channel again with a new write token when the edge closes it at the old one\'s expiry, without a word of trouble', async () => {
    let opened = 0;
    const counting = () => (opened += 1);
    sockets.on('connection', counting);
    const trouble: string[] = [];
    // The sidecar's clock an hour less 1.5 s behind: every token it mints expires within 0.5-1.5 s.
    const channel = new LiveChannel({
      edgeUrl: base,
      secret,
      playbackId: 'renewed',
      lease: { sidecar: 'sidecar-r', broadcast: 'b1' },
      partLifetimeMs: 6000,
      onTrouble: (message) => trouble.push(message),
      onLeaseRefused: (reason) => trouble.push(`refused: ${reason}`),
      now: () => Date.now() - WRITE_TOKEN_TTL_SECONDS * 1000 + 1500,
    });
    try {
      expect(await channel.lease).toEqual({ ok: true });
      await pause(3500);
      expect(opened).toBeGreaterThanOrEqual(3);
      expect(trouble).toEqual([]);
      // Still the stream's channel: a part sent now reaches the edge's live state.
      channel.sendPart(outgoing(part(0)), { sent: () => undefined, dropped: (reason) => trouble.push(`dropped: ${reason}`) });
      const text = await (await fetch(`${base}/live/renewed/source/index.m3u8?_HLS_msn=2&_HLS_part=0`, { signal: AbortSignal.timeout(5000) })).text();
      expect(text).toContain(file(0));
      expect(trouble).toEqual([]);
    } finally {
      sockets.off('connection', counting);
      channel.release();
    }
  });

  it('hears a refusal when another sidecar holds the stream, and sends nothing', async () => {
    const holder = new LiveChannels({ edgeUrl: base, secret, sidecarId: 'sidecar-a', partLifetimeMs: 6000, log: { warn: () => undefined } });
    const other = new LiveChannels({ edgeUrl: base, secret, sidecarId: 'sidecar-b', partLifetimeMs: 6000, log: { warn: () => undefined } });
    expect(await holder.acquire('held', () => undefined)).toEqual({ ok: true });
    const outcome = await other.acquire('held', () => undefined);
    expect(outcome).toEqual({ ok: false, reason: expect.stringMatching(/another sidecar/) });
    const dropped: string[] = [];
    other.sendPart('held', outgoing(part(0)), { sent: () => undefined, dropped: (reason) => dropped.push(reason) });
    expect(dropped).toHaveLength(1);
    holder.releaseAll();
  });
});
