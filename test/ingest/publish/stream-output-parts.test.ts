/**
 * Low-latency parts from the sidecar to a real edge: a source's frames cut into parts and
 * segments by the sidecar's packager and published as a run does, segments through the edge write API (EdgeObjectStore)
 * and parts over the stream's live channel (a WebSocket, LiveChannels) into the Node edge's
 * in-process live state. What a player fetches must add up: every part
 * listed exists, a segment's parts are exactly its bytes, and parts carry their segment's number.
 */
import type { AddressInfo } from 'node:net';
import { serve, upgradeWebSocket, type ServerType } from '@hono/node-server';
import { WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FlvRemuxer } from '../../../ingest/package/flv-remuxer.ts';
import { concatBytes } from '../../../ingest/package/bytes.ts';
import { StreamOutput } from '../../../ingest/publish/stream-output.ts';
import { PASSTHROUGH_ONLY } from '../../../ingest/transcode/ladder.ts';
import { EdgeObjectStore } from '../../../ingest/upload/edge-object-store.ts';
import { LiveChannels } from '../../../ingest/upload/live-channels.ts';
import { createApp } from '../../../edge/app.ts';
import { InProcessCoordinator } from '../../../edge/low-latency/coordinator.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import { TEST_SECRET } from '../../helpers/edge-app.ts';
import { makeFlv } from '../../helpers/media-fixtures.ts';

describe('low-latency parts, sidecar to edge', () => {
  let server: ServerType;
  let base: string;
  const errors: unknown[] = [];
  let midStream: string;
  let afterEnd: string;
  let channels: LiveChannels;

  const get = (path: string) => fetch(`${base}/live/parts/${path}`);

  beforeAll(async () => {
    const memory = new MemoryObjectStore();
    const app = createApp({
      store: memory,
      lowLatency: new InProcessCoordinator(memory, { upgradeWebSocket }),
      ingestSecret: TEST_SECRET,
      assets: { hlsJsVersion: '1', hlsJsSource: '', dashJsVersion: '1', dashJsSource: '' },
    });
    server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0, websocket: { server: new WebSocketServer({ noServer: true }) } });
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const store = new EdgeObjectStore({ baseUrl: base, secret: TEST_SECRET, timeoutMs: 5000 });
    channels = new LiveChannels({ edgeUrl: base, secret: TEST_SECRET, sidecarId: 'sidecar-a', partLifetimeMs: 6000, log: { warn: (message) => errors.push(message) } });
    expect(await channels.acquire('parts', (reason) => errors.push(reason))).toEqual({ ok: true });
    const output = new StreamOutput({
      playbackId: 'parts',
      renditions: PASSTHROUGH_ONLY,
      store,
      targetSegmentDuration: 2,
      windowSegments: 5,
      now: Date.now,
      lowLatency: { sink: channels, partTarget: 0.333, onTrouble: (message) => errors.push(message) },
      onError: (error) => errors.push(error),
    });
    const session = 'partsession1';
    output.beginSession(session);
    const flv = await makeFlv({ seconds: 9, gopFrames: 60 });
    // Wired as a run wires its packager.
    const remuxer = new FlvRemuxer({
      videoRendition: PASSTHROUGH_ONLY[0]!.name,
      audioRendition: PASSTHROUGH_ONLY[1]!.name,
      targetSegmentDuration: 2,
      partTarget: 0.333,
      onNotice: (message) => errors.push(message),
      events: (name) => ({
        onInit: (init, track) => output.publishInit(session, name, init, track),
        onChunk: (chunk, track, position) => {
          output.noteChunkReceived(session, (chunk.startTime + chunk.duration) / track.timescale);
          output.publishPart(session, name, chunk, position, track);
        },
        onSegment: (segment) => output.publishSegment(session, name, segment),
      }),
    });
    // The publisher's FLV in small pieces, with time for the uploads: as live as a test gets.
    const piece = 3000;
    for (let offset = 0; offset < flv.length; offset += piece) {
      remuxer.push(flv.subarray(offset, offset + piece));
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (offset >= flv.length * 0.8 && midStream === undefined) {
        await output.idle();
        await new Promise((resolve) => setTimeout(resolve, 50));
        midStream = await (await get('source/index.m3u8')).text();
      }
    }
    remuxer.end();
    await output.idle();
    await new Promise((resolve) => setTimeout(resolve, 100));
    afterEnd = await (await get('source/index.m3u8')).text();
    await output.end();
  }, 60_000); // 9 s of media fed live: far beyond the default hook timeout on a loaded machine

  afterAll(() => {
    channels.releaseAll();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('lists parts with their segment, the segment being cut, and a preload hint', () => {
    // The test feeds media faster than real time: the channel queues parts in order, none is dropped.
    expect(errors).toEqual([]);
    expect(midStream).toContain('#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES');
    expect(midStream).toContain('#EXT-X-PART-INF:PART-TARGET=0.33300');
    expect(midStream).toMatch(/#EXT-X-PRELOAD-HINT:TYPE=PART,URI="partsession1-\d+\.p\d+\.m4s"\n/);
    // Each listed segment's parts name that segment; the parts after the last segment name the next.
    const lines = midStream.split('\n');
    let pendingParts: string[] = [];
    for (const line of lines) {
      const part = /^#EXT-X-PART:.*URI="([^"]+)\.p\d+\.m4s"/.exec(line);
      if (part) pendingParts.push(part[1]!);
      if (line.endsWith('.m4s') && !line.startsWith('#')) {
        for (const owner of pendingParts) expect(`${owner}.m4s`).toBe(line);
        pendingParts = [];
      }
    }
    expect(pendingParts.length).toBeGreaterThan(0);
    const segments = lines.filter((line) => line.endsWith('.m4s') && !line.startsWith('#'));
    const lastTime = Number(/-(\d+)\.m4s$/.exec(segments.at(-1)!)![1]);
    expect(Number(/-(\d+)$/.exec(pendingParts[0]!)![1])).toBeGreaterThan(lastTime);
  });

  it('serves parts whose bytes are exactly their segment, in order', async () => {
    const text = afterEnd ?? midStream;
    const blocks = text.split(/^#EXTINF:[^\n]*\n/m);
    let checked = 0;
    for (let i = 1; i < blocks.length; i++) {
      const segment = blocks[i]!.split('\n')[0]!;
      const parts = [...blocks[i - 1]!.matchAll(/^#EXT-X-PART:[^\n]*URI="([^"]+)"/gm)].map((match) => match[1]!);
      if (parts.length === 0) continue;
      const partBytes = await Promise.all(parts.map(async (uri) => new Uint8Array(await (await get(`source/${uri}`)).arrayBuffer())));
      const whole = new Uint8Array(await (await get(`source/${segment}`)).arrayBuffer());
      expect(Buffer.compare(concatBytes(partBytes), whole), segment).toBe(0);
      checked += 1;
    }
    expect(checked).toBeGreaterThanOrEqual(2);
  });
});
