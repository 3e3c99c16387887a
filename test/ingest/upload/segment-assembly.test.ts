/**
 * A segment is its parts, sidecar side, against a real Node edge (ws under @hono/node-server):
 * a segment whose parts went out on the live channel is stored by the edge from them; when the
 * edge does not store it (it lacks a part), does not answer in time, or the channel drops before
 * it answers, the upload queue uploads it over HTTP instead. Either way the stored segment is its
 * parts' bytes end to end, and it is counted as uploaded once.
 */
import type { AddressInfo } from 'node:net';
import { serve, upgradeWebSocket, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { createApp } from '../../../edge/app.ts';
import { InProcessCoordinator } from '../../../edge/low-latency/coordinator.ts';
import { EdgeObjectStore } from '../../../ingest/upload/edge-object-store.ts';
import { LiveChannel } from '../../../ingest/upload/live-channel.ts';
import { UploadQueue, type Upload } from '../../../ingest/upload/upload-queue.ts';
import type { PartFrame } from '../../../shared/live-channel-protocol.ts';
import { outgoing } from './outgoing-parts.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import type { PutOptions } from '../../../shared/storage/object-store.ts';

const secret = 'segment-assembly-secret';
const SESSION = 'assemblysess2';
const TIME = 540000;
const SEGMENT = `${SESSION}-${TIME}.m4s`;
const partName = (index: number) => `${SESSION}-${TIME}.p${index}.m4s`;

/** The edge's storage: every write counted by key; a hook may hold one up (the edge then answers late, or never). */
class EdgeStore extends MemoryObjectStore {
  readonly writes: string[] = [];
  onWrite: ((key: string) => Promise<void>) | undefined;

  override async put(key: string, body: Uint8Array | string, options: PutOptions): Promise<void> {
    this.writes.push(key);
    const hook = this.onWrite;
    this.onWrite = undefined;
    await hook?.(key);
    await super.put(key, body, options);
  }
}

let server: ServerType;
let sockets: WebSocketServer;
let store: EdgeStore;
let base = '';

beforeAll(async () => {
  store = new EdgeStore();
  const app = createApp({ store, ingestSecret: secret, lowLatency: new InProcessCoordinator(store, { upgradeWebSocket }), assets: { hlsJsVersion: '1', hlsJsSource: '', dashJsVersion: '1', dashJsSource: '' } });
  sockets = new WebSocketServer({ noServer: true });
  server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0, websocket: { server: sockets } });
  await new Promise((resolve) => server.once('listening', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  for (const stream of ['whole', 'missing', 'late', 'dropped']) {
    await store.put(`streams/${stream}/status.json`, JSON.stringify({ playbackId: stream, state: 'live', startedAt: 0, updatedAt: 0, targetDuration: 2, reconnects: 0, renditions: [], playback: 'public', lowLatency: { partTarget: 0.5 } }), { contentType: 'application/json' });
  }
});

afterAll(() => {
  for (const socket of sockets.clients) socket.terminate();
  return new Promise<void>((resolve) => server.close(() => resolve()));
});

function part(index: number): PartFrame {
  return {
    rendition: 'source',
    file: partName(index),
    contentType: 'video/mp4',
    // Sizes across WebSocket's length forms; bytes that differ from part to part.
    bytes: Uint8Array.from({ length: [300, 70_000, 5_000][index]! }, (_, at) => (at * 3 + index * 29) & 0xff),
    msn: 7,
    duration: 0.5,
    independent: index === 0,
    next: partName(index + 1),
    partTarget: 0.5,
  };
}

interface Run {
  outcome: 'stored' | 'dropped';
  /** Whether the edge stored it from its parts (else it went over HTTP). */
  assembled: boolean[];
  refusals: string[];
  bytes: Uint8Array | undefined;
}

/** One segment through a channel and an upload queue as StreamOutput wires them; `send` picks the parts that go out first. */
async function run(playbackId: string, options: { send: number[]; segmentAnswerMs?: number; beforeSegment?: (channel: LiveChannel) => void }): Promise<Run> {
  const trouble: string[] = [];
  const channel = new LiveChannel({ edgeUrl: base, secret, playbackId, lease: { sidecar: `sidecar-${playbackId}`, broadcast: 'b1' }, partLifetimeMs: 6000, onTrouble: (line) => trouble.push(line), onLeaseRefused: (reason) => trouble.push(reason), segmentAnswerMs: options.segmentAnswerMs });
  const http = new EdgeObjectStore({ baseUrl: base, secret, timeoutMs: 5000 });
  try {
    expect(await channel.lease).toEqual({ ok: true });
    const parts = [0, 1, 2].map((index) => outgoing(part(index)));
    for (const index of options.send) channel.sendPart(parts[index]!, { sent: () => undefined, dropped: (reason) => trouble.push(reason) });
    options.beforeSegment?.(channel);
    const assembled: boolean[] = [];
    const refusals: string[] = [];
    let outcome: Run['outcome'] | undefined;
    const queue: UploadQueue<string> = new UploadQueue<string>({
      store: http,
      limits: { parallelUploads: 2, bufferBytes: 1 << 24, backoff: { initialDelayMs: 10, maxDelayMs: 50 } },
      now: Date.now,
      backlogWarningMs: 60_000,
      onError: (error) => refusals.push(String(error)),
      onAssemblyRefused: (_key, reason) => refusals.push(reason),
      onSettled: async (lane) => {
        for (const item of queue.takeSettled(lane)) outcome = item.state === 'stored' ? 'stored' : 'dropped';
      },
      metrics: { timeUpload: () => () => undefined, segmentDropped: () => undefined, segmentAssembled: (stored) => assembled.push(stored) },
    });
    // The segment as StreamOutput uploads it: its parts' pieces end to end.
    const chunks = parts.flatMap((frame) => frame.pieces);
    const byteLength = chunks.reduce((sum, chunk) => sum + chunk.byteLength, 0);
    const upload: Upload = {
      key: `streams/${playbackId}/source/${SEGMENT}`,
      chunks,
      byteLength,
      contentType: 'video/mp4',
      droppable: true,
      label: 'segment',
      assemble: () => channel.storeSegment({ rendition: 'source', file: SEGMENT, parts: parts.map((frame) => frame.file), byteLength, contentType: 'video/mp4' }),
    };
    queue.enqueue('source', upload, SEGMENT);
    await queue.idle();
    const stored = await store.get(upload.key);
    return { outcome: outcome!, assembled, refusals, bytes: stored ? new Uint8Array(await new Response(stored.body).arrayBuffer()) : undefined };
  } finally {
    channel.release();
    http.close();
  }
}

const whole = () => Buffer.concat([0, 1, 2].map((index) => part(index).bytes));

describe('a segment is its parts, sidecar side', () => {
  it('is stored by the edge from the parts it was sent, byte for byte, with no HTTP upload', async () => {
    const writes = store.writes.length;
    const result = await run('whole', { send: [0, 1, 2] });
    expect(result).toMatchObject({ outcome: 'stored', assembled: [true], refusals: [] });
    expect(Buffer.from(result.bytes!).equals(whole())).toBe(true);
    // One write, the edge's own (an HTTP upload would be a second).
    expect(store.writes.slice(writes)).toEqual([`streams/whole/source/${SEGMENT}`]);
  });

  it('is uploaded over HTTP, byte for byte, when the edge answers not-stored (a part never reached it)', async () => {
    const writes = store.writes.length;
    const result = await run('missing', { send: [0, 2] });
    expect(result).toMatchObject({ outcome: 'stored', assembled: [false] });
    expect(result.refusals).toEqual([expect.stringMatching(/the edge did not store it: .*held here/)]);
    expect(Buffer.from(result.bytes!).equals(whole())).toBe(true);
    expect(store.writes.slice(writes)).toEqual([`streams/missing/source/${SEGMENT}`]);
  });

  it('is uploaded over HTTP when the edge does not answer in time', async () => {
    let release = () => undefined as void;
    // The edge's own write of the segment hangs past the sidecar's wait; the HTTP upload's goes through.
    store.onWrite = () => new Promise<void>((resolve) => (release = resolve));
    const started = Date.now();
    const result = await run('late', { send: [0, 1, 2], segmentAnswerMs: 300 });
    release();
    expect(Date.now() - started).toBeLessThan(3000);
    expect(result).toMatchObject({ outcome: 'stored', assembled: [false], refusals: [expect.stringMatching(/no answer from the edge within 300 ms/)] });
    expect(Buffer.from(result.bytes!).equals(whole())).toBe(true);
  });

  it('is uploaded over HTTP when the channel drops before the edge answers', async () => {
    // The edge's write of the segment cuts every channel (as a crashed proxy would), then goes on.
    store.onWrite = async () => {
      for (const socket of sockets.clients) socket.terminate();
      await new Promise((resolve) => setTimeout(resolve, 200));
    };
    const result = await run('dropped', { send: [0, 1, 2] });
    expect(result).toMatchObject({ outcome: 'stored', assembled: [false], refusals: [expect.stringMatching(/live channel closed/)] });
    expect(Buffer.from(result.bytes!).equals(whole())).toBe(true);
  });

  it('is uploaded over HTTP at once when the channel is down', async () => {
    const channel = new LiveChannel({ edgeUrl: 'http://127.0.0.1:9', secret, playbackId: 'nowhere', lease: { sidecar: 's', broadcast: 'b' }, partLifetimeMs: 6000, onTrouble: () => undefined, onLeaseRefused: () => undefined });
    try {
      expect(await channel.storeSegment({ rendition: 'source', file: SEGMENT, parts: [partName(0)], byteLength: 1, contentType: 'video/mp4' })).toEqual({ stored: false, reason: 'the live channel is down' });
    } finally {
      channel.release();
    }
  });
});
