/**
 * A segment is its parts: the live state writes a segment the sidecar names by its parts from
 * the parts it holds, to the stream's own prefix, only when it holds exactly those parts of that
 * rendition with that total length, and only for the lease holder; otherwise it answers
 * `not-stored` with why and writes nothing (the sidecar uploads the segment itself then).
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LiveChannelHub } from '../../../edge/low-latency/live-channel-hub.ts';
import { LiveStreamState } from '../../../edge/low-latency/live-stream-state.ts';
import { CLOSE_BAD_FRAME, CLOSE_LEASE_EXPIRED, encodePartFrame, LEASE_TTL_MS, type PartFrame } from '../../../shared/live-channel-protocol.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';

interface Socket {
  sent: string[];
  closedWith?: { code: number; reason: string };
}

const SESSION = 'assemblysess1';
const TIME = 360000;
const SEGMENT = `${SESSION}-${TIME}.m4s`;
const KEY = `streams/colors/source/${SEGMENT}`;
const partName = (index: number) => `${SESSION}-${TIME}.p${index}.m4s`;

function part(index: number, rendition = 'source', size = 1000 + index * 7): PartFrame {
  return {
    rendition,
    file: partName(index),
    contentType: rendition === 'audio' ? 'audio/mp4' : 'video/mp4',
    bytes: Uint8Array.from({ length: size }, (_, at) => (index * 31 + at + (rendition === 'audio' ? 5 : 0)) & 0xff),
    msn: 4,
    duration: 0.5,
    independent: index === 0,
    next: partName(index + 1),
    partTarget: 0.5,
  };
}

function setUp(now: () => number = Date.now) {
  const store = new MemoryObjectStore();
  const state = new LiveStreamState({ loadPlaylist: async () => undefined, now });
  const hub = new LiveChannelHub<Socket>({
    state: () => state,
    storage: { store, playbackId: 'colors' },
    now,
    log: () => undefined,
    transport: { send: (socket, text) => socket.sent.push(text), close: (socket, code, reason) => (socket.closedWith = { code, reason }) },
  });
  const socket: Socket = { sent: [] };
  expect(hub.open(socket, { sidecar: 'sidecar-a', broadcast: 'b1' })).toBe(true);
  return { store, hub, socket };
}

function segmentMessage(parts: string[], byteLength: number, rendition = 'source', contentType = 'video/mp4'): string {
  return JSON.stringify({ type: 'segment', rendition, file: SEGMENT, parts, byteLength, contentType });
}

const joined = (frames: PartFrame[]) => Buffer.concat(frames.map((frame) => frame.bytes));
const total = (frames: PartFrame[]) => frames.reduce((sum, frame) => sum + frame.bytes.byteLength, 0);
/** The edge's answers after the lease, once the store has been written (or not). */
async function answers(socket: Socket): Promise<unknown[]> {
  await vi.waitFor(() => expect(socket.sent.length).toBeGreaterThan(1));
  return socket.sent.slice(1).map((text) => JSON.parse(text) as unknown);
}

describe('a segment stored from its parts at the edge', () => {
  afterEach(() => vi.useRealTimers());

  it('writes the parts end to end under the segment key, byte for byte, and answers stored', async () => {
    const { store, hub, socket } = setUp();
    const parts = [0, 1, 2].map((index) => part(index));
    for (const frame of parts) hub.message(socket, encodePartFrame(frame));
    hub.message(socket, segmentMessage(parts.map((frame) => frame.file), total(parts)));
    expect(await answers(socket)).toEqual([{ type: 'stored', rendition: 'source', file: SEGMENT }]);
    const stored = await store.get(KEY);
    expect(stored?.contentType).toBe('video/mp4');
    expect(Buffer.from(await new Response(stored!.body).arrayBuffer()).equals(joined(parts))).toBe(true);
  });

  it.each([
    { name: 'a part missing (skipped by the sidecar)', send: [0, 2], named: [0, 1, 2], why: /part\(s\) of source\/.* are held here, not the 3 named/ },
    { name: 'a part held that the segment does not name', send: [0, 1, 2], named: [0, 1], why: /3 part\(s\) of .* not the 2 named/ },
  ])('answers not-stored and writes nothing: $name', async ({ send, named, why }) => {
    const { store, hub, socket } = setUp();
    const frames = send.map((index) => part(index));
    for (const frame of frames) hub.message(socket, encodePartFrame(frame));
    hub.message(socket, segmentMessage(named.map(partName), named.reduce((sum, index) => sum + part(index).bytes.byteLength, 0)));
    expect(await answers(socket)).toEqual([{ type: 'not-stored', rendition: 'source', file: SEGMENT, reason: expect.stringMatching(why) }]);
    expect(await store.head(KEY)).toBeNull();
  });

  it('answers not-stored for parts of the same name held for another rendition only', async () => {
    const { store, hub, socket } = setUp();
    const audio = [0, 1].map((index) => part(index, 'audio'));
    for (const frame of audio) hub.message(socket, encodePartFrame(frame));
    hub.message(socket, segmentMessage(audio.map((frame) => frame.file), total(audio)));
    expect(await answers(socket)).toEqual([{ type: 'not-stored', rendition: 'source', file: SEGMENT, reason: expect.stringMatching(/no part of source\//) }]);
    expect(await store.head(KEY)).toBeNull();
    expect(await store.head(`streams/colors/audio/${SEGMENT}`)).toBeNull();
  });

  it('answers not-stored for a wrong total length or content type', async () => {
    const { store, hub, socket } = setUp();
    const parts = [0, 1].map((index) => part(index));
    for (const frame of parts) hub.message(socket, encodePartFrame(frame));
    hub.message(socket, segmentMessage(parts.map((frame) => frame.file), total(parts) + 1));
    hub.message(socket, segmentMessage(parts.map((frame) => frame.file), total(parts), 'source', 'audio/mp4'));
    await vi.waitFor(() => expect(socket.sent.length).toBe(3));
    const [length, type] = socket.sent.slice(1).map((text) => JSON.parse(text) as { type: string; reason: string });
    expect(length).toMatchObject({ type: 'not-stored', reason: expect.stringMatching(/bytes, not the \d+ named/) });
    expect(type).toMatchObject({ type: 'not-stored', reason: expect.stringMatching(/is video\/mp4, not audio\/mp4/) });
    expect(await store.head(KEY)).toBeNull();
  });

  it.each([
    { name: 'a rendition that climbs out of the stream', rendition: '..', file: SEGMENT },
    { name: 'a file that is not a segment', rendition: 'source', file: 'index.m3u8' },
    { name: 'a path in the file', rendition: 'source', file: `../other/${SEGMENT}` },
  ])('refuses a name outside the stream ($name): the channel is closed, nothing written', async ({ rendition, file }) => {
    const { store, hub, socket } = setUp();
    hub.message(socket, encodePartFrame(part(0)));
    hub.message(socket, JSON.stringify({ type: 'segment', rendition, file, parts: [partName(0)], byteLength: part(0).bytes.byteLength, contentType: 'video/mp4' }));
    expect(socket.closedWith?.code).toBe(CLOSE_BAD_FRAME);
    expect(store.objects.size).toBe(0);
  });

  it('refuses a write from a channel whose lease was lost to another sidecar', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const { store, hub, socket } = setUp(() => Date.now());
    const parts = [0, 1].map((index) => part(index));
    for (const frame of parts) hub.message(socket, encodePartFrame(frame));
    vi.advanceTimersByTime(LEASE_TTL_MS + 1);
    const other: Socket = { sent: [] };
    expect(hub.open(other, { sidecar: 'sidecar-b', broadcast: 'b2' })).toBe(true);
    hub.message(socket, segmentMessage(parts.map((frame) => frame.file), total(parts)));
    expect(socket.closedWith?.code).toBe(CLOSE_LEASE_EXPIRED);
    await vi.runAllTimersAsync();
    expect(store.objects.size).toBe(0);
  });
});
