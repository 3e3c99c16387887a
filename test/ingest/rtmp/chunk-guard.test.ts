import Rtmp from 'node-media-server/src/protocol/rtmp.js';
import { describe, expect, it } from 'vitest';
import { ByteBudget } from '../../../ingest/rtmp/byte-budget.ts';
import { COMMAND_MESSAGE_LIMIT, RtmpChunkGuard, UNPUBLISHED_MEMORY_LIMIT, type ChunkGuardLimits } from '../../../ingest/rtmp/chunk-guard.ts';
import {
  chunkHeader,
  chunkMessage,
  clientHandshake,
  command,
  connectCommand,
  MessageType,
  publishCommand,
  setChunkSize,
} from '../../../scripts/lib/rtmp-wire.ts';

const MIB = 1024 * 1024;
const LIMITS: ChunkGuardLimits = { maxMessageSize: 8 * MIB, maxChunkStreams: 16, maxPublisherMemory: 20 * MIB };
/** node-media-server's buffer for a message of this length. */
const buffered = (length: number) => length + 1024;

/**
 * Feeds the bytes in pieces of `piece` bytes, each until the guard has passed all of it (as the
 * gate does, handing what passed to node-media-server in between); returns the first violation.
 */
function feed(guard: RtmpChunkGuard, bytes: Buffer, piece = bytes.length, afterPassing?: (passed: Buffer) => void) {
  for (let offset = 0; offset < bytes.length; offset += piece) {
    let rest = bytes.subarray(offset, offset + piece);
    while (rest.length > 0) {
      const verdict = guard.inspect(rest);
      if ('violation' in verdict) return verdict.violation;
      if (verdict.passed === 0) throw new Error('the guard made no progress');
      afterPassing?.(rest.subarray(0, verdict.passed));
      rest = rest.subarray(verdict.passed);
    }
  }
  return undefined;
}

const PIECES = [1, 2, 3, 5, 11, 128, 1537, 4096, Number.MAX_SAFE_INTEGER];

/** What ffmpeg sends before its first media message. */
function publisherOpening(chunkSize = 4096): Buffer {
  return Buffer.concat([
    clientHandshake(),
    setChunkSize(chunkSize),
    connectCommand('live', 'rtmp://127.0.0.1/live', { chunkSize }),
    command('releaseStream', 2, [null, 'stream-key'], { chunkSize }),
    command('FCPublish', 3, [null, 'stream-key'], { chunkSize }),
    command('createStream', 4, [null], { chunkSize }),
    publishCommand('stream-key', { chunkSize }),
  ]);
}

function video(length: number, chunkSize = 4096, chunkStreamId = 6): Buffer {
  return chunkMessage({ chunkStreamId, type: MessageType.video, payload: Buffer.alloc(length, 0x17), chunkSize, playbackId: 1 });
}

describe('RTMP chunk guard: a well-behaved publisher', () => {
  it.each(PIECES)('passes handshake, commands and large media in pieces of %i bytes, and knows what node-media-server allocated', (piece) => {
    const guard = new RtmpChunkGuard(LIMITS);
    expect(feed(guard, publisherOpening(), piece)).toBeUndefined();
    expect(guard.handshakeComplete).toBe(true);
    guard.allowPublishing();
    expect(feed(guard, Buffer.concat([video(1 * MIB), video(100), video(2 * MIB)]), piece)).toBeUndefined();
    // Video on chunk stream 6 grew to the largest frame; the commands' streams hold their own.
    expect(guard.parserMemory).toBeGreaterThan(buffered(2 * MIB));
    expect(guard.parserMemory).toBeLessThan(buffered(2 * MIB) + 16 * 1024);
  });

  it('reports the handshake as complete only after C0, C1 and C2', () => {
    const guard = new RtmpChunkGuard(LIMITS);
    const handshake = clientHandshake();
    guard.inspect(handshake.subarray(0, handshake.length - 1));
    expect(guard.handshakeComplete).toBe(false);
    guard.inspect(handshake.subarray(handshake.length - 1));
    expect(guard.handshakeComplete).toBe(true);
  });

  it('follows extended timestamps, on type-3 chunks too', () => {
    const guard = new RtmpChunkGuard(LIMITS);
    expect(feed(guard, publisherOpening(128))).toBeUndefined();
    guard.allowPublishing();
    const late = chunkMessage({ chunkStreamId: 6, type: MessageType.video, payload: Buffer.alloc(1000), chunkSize: 128, timestamp: 0x1_000_000, playbackId: 1 });
    for (const piece of PIECES) expect(feed(guard, Buffer.concat([late, video(300, 128)]), piece)).toBeUndefined();
  });

  it('gives its share of the shared budget back when released', () => {
    const budget = new ByteBudget(64 * MIB);
    const guard = new RtmpChunkGuard(LIMITS, budget);
    feed(guard, publisherOpening());
    guard.allowPublishing();
    feed(guard, video(2 * MIB));
    expect(budget.used).toBe(guard.parserMemory);
    guard.release();
    expect(budget.used).toBe(0);
  });
});

describe('RTMP chunk guard: what it refuses, wherever the bytes are split', () => {
  const afterHandshake = (...parts: Buffer[]) => Buffer.concat([clientHandshake(), ...parts]);
  const published = (...parts: Buffer[]) => ({ opening: publisherOpening(), rest: Buffer.concat(parts) });
  /**
   * The cheap way to make node-media-server allocate: on each of `count` chunk streams, a header
   * announcing `length` bytes and only the first chunk (128 bytes) of them.
   */
  const headers = (count: number, length: number, type: number = MessageType.commandAmf0) =>
    Buffer.concat(
      Array.from({ length: count }, (_, index) => [chunkHeader({ format: 0, chunkStreamId: 3 + index, length, type }), Buffer.alloc(Math.min(length, 128))]).flat(),
    );

  it.each([
    { name: 'random bytes (no RTMP version byte)', input: Buffer.concat([Buffer.from([0x16]), Buffer.alloc(3000, 7)]), reason: 'bad-handshake' },
    { name: 'an HTTP request', input: Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'), reason: 'bad-handshake' },
    { name: 'a 16 MiB command', input: afterHandshake(chunkHeader({ format: 0, chunkStreamId: 3, length: 0xffffff, type: MessageType.commandAmf0 })), reason: 'message-too-large' },
    { name: 'a command just over the command limit', input: afterHandshake(chunkHeader({ format: 0, chunkStreamId: 3, length: COMMAND_MESSAGE_LIMIT + 1, type: 20 })), reason: 'message-too-large' },
    { name: 'video before any publish', input: afterHandshake(video(100)), reason: 'media-before-publish' },
    { name: 'video announced with a type-1 header, then started by a type-3 chunk', input: afterHandshake(chunkHeader({ format: 1, chunkStreamId: 5, length: 10, type: MessageType.video })), reason: 'media-before-publish' },
    { name: 'a 17th chunk stream id', input: afterHandshake(headers(17, 0, MessageType.userControl)), reason: 'chunk-stream-limit' },
    { name: 'a three-byte chunk stream id', input: afterHandshake(chunkHeader({ format: 0, chunkStreamId: 5000, length: 10, type: 20 })), reason: 'chunk-stream-id' },
    { name: 'Set Chunk Size 0', input: afterHandshake(setChunkSize(0)), reason: 'chunk-size' },
    { name: 'Set Chunk Size 65537', input: afterHandshake(setChunkSize(65_537)), reason: 'chunk-size' },
    { name: 'a "negative" Set Chunk Size (top bit set)', input: afterHandshake(setChunkSize(0x8000_0000)), reason: 'chunk-size' },
    { name: 'a Set Chunk Size without payload', input: afterHandshake(chunkHeader({ format: 0, chunkStreamId: 2, length: 0, type: MessageType.setChunkSize })), reason: 'control-message' },
    { name: 'a two-byte Window Acknowledgement Size', input: afterHandshake(chunkHeader({ format: 0, chunkStreamId: 2, length: 2, type: MessageType.windowAckSize })), reason: 'control-message' },
    { name: 'command buffers past the unpublished connection limit', input: afterHandshake(headers(5, COMMAND_MESSAGE_LIMIT)), reason: 'connection-memory' },
    {
      name: 'a new length in the middle of a message',
      input: afterHandshake(chunkHeader({ format: 0, chunkStreamId: 3, length: 500, type: 20 }), Buffer.alloc(128), chunkHeader({ format: 1, chunkStreamId: 3, length: 50, type: 20 })),
      reason: 'chunk-header',
    },
  ])('refuses $name', ({ input, reason }) => {
    for (const piece of PIECES) {
      expect(feed(new RtmpChunkGuard(LIMITS), input, piece), `pieces of ${piece}`).toMatchObject({ reason });
    }
  });

  it.each([
    { name: 'a video frame over the message limit', input: published(chunkHeader({ format: 0, chunkStreamId: 6, length: 8 * MIB + 1, type: MessageType.video, playbackId: 1 })), reason: 'message-too-large' },
    { name: 'a 16 MiB command from a publisher', input: published(chunkHeader({ format: 0, chunkStreamId: 3, length: 0xffffff, type: MessageType.commandAmf0 })), reason: 'message-too-large' },
    { name: 'large frames on three chunk streams (past the publisher memory)', input: published(video(7 * MIB, 4096, 6), video(7 * MIB, 4096, 7), video(7 * MIB, 4096, 9)), reason: 'connection-memory' },
  ])('refuses $name', ({ input, reason }) => {
    for (const piece of [7, 4096, Number.MAX_SAFE_INTEGER]) {
      const guard = new RtmpChunkGuard(LIMITS);
      expect(feed(guard, input.opening, piece)).toBeUndefined();
      guard.allowPublishing();
      expect(feed(guard, input.rest, piece), `pieces of ${piece}`).toMatchObject({ reason });
    }
  });

  it('refuses a connection whose buffers would take all connections past the shared budget', () => {
    const budget = new ByteBudget(UNPUBLISHED_MEMORY_LIMIT + 100_000);
    const first = new RtmpChunkGuard(LIMITS, budget);
    const second = new RtmpChunkGuard(LIMITS, budget);
    const threeCommands = Buffer.concat([clientHandshake(), headers(3, COMMAND_MESSAGE_LIMIT)]);
    expect(feed(first, threeCommands)).toBeUndefined();
    expect(feed(second, threeCommands)).toMatchObject({ reason: 'total-memory' });
    first.release();
    second.release();
    expect(budget.used).toBe(0);
  });

  it('keeps refusing once it has refused', () => {
    const guard = new RtmpChunkGuard(LIMITS);
    expect(guard.inspect(Buffer.from([0x47]))).toMatchObject({ violation: { reason: 'bad-handshake' } });
    expect(guard.inspect(clientHandshake())).toMatchObject({ violation: { reason: 'bad-handshake' } });
  });

  it('stops after each command until a publish is accepted, so media in the same packet as the publish can pass', () => {
    const opening = publisherOpening();
    const firstMedia = Buffer.concat([chunkMessage({ chunkStreamId: 4, type: MessageType.dataAmf0, payload: Buffer.alloc(300), chunkSize: 4096, playbackId: 1 }), video(100_000)]);
    for (const piece of PIECES) {
      const accepting = new RtmpChunkGuard(LIMITS);
      let passedSoFar = 0;
      let accepted = false;
      // What node-media-server does with the bytes that passed: it accepts the publish on its last byte.
      const violation = feed(accepting, Buffer.concat([opening, firstMedia]), piece, (passed) => {
        passedSoFar += passed.length;
        if (passedSoFar === opening.length) {
          accepting.allowPublishing();
          accepted = true;
        }
      });
      expect(accepted, `a stop at the end of the publish, pieces of ${piece}`).toBe(true);
      expect(violation, `pieces of ${piece}`).toBeUndefined();
      // Nobody accepts the publish: the media is refused.
      expect(feed(new RtmpChunkGuard(LIMITS), Buffer.concat([opening, firstMedia]), piece), `pieces of ${piece}`).toMatchObject({ reason: 'media-before-publish' });
    }
  });
});

/** A small seeded generator: the same streams on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Well-formed but unusual chunk streams: interleaved messages on 16 chunk stream ids (both basic
 * header forms), type 1/2/3 headers inheriting from earlier ones, extended timestamps (clocks past
 * 32 bits too), chunk size changes, empty messages.
 */
function unusualStream(next: () => number): Buffer {
  const parts: Buffer[] = [clientHandshake()];
  let chunkSize = 128;
  const ids = [3, 4, 5, 6, 7, 8, 9, 20, 63, 64, 65, 100, 200, 318, 319];
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
  /** Per chunk stream: the last length, and whether the last timestamp field was the extended marker. */
  const streams = new Map<number, { length: number; extended: boolean }>();
  const send = (id: number, format: 0 | 1 | 2 | 3, length: number, type: number, extended: number | undefined, payload: Buffer) => {
    const header = format === 3 ? { format, chunkStreamId: id } : { format, chunkStreamId: id, timestamp: extended === undefined ? 40 : 0xffffff, length, type };
    const marker = format === 3 ? streams.get(id)!.extended : extended !== undefined;
    // Every chunk of a stream whose timestamp field is the marker carries the extended field.
    const extendedField = marker ? (extended ?? 0x1_000_000) : undefined;
    parts.push(chunkHeader({ ...header, extendedTimestamp: extendedField }));
    streams.set(id, { length, extended: marker });
    for (let offset = 0; offset < payload.length; offset += chunkSize) {
      if (offset > 0) parts.push(chunkHeader({ format: 3, chunkStreamId: id, extendedTimestamp: extendedField }));
      parts.push(payload.subarray(offset, offset + chunkSize));
    }
  };
  for (let message = 0; message < 300; message++) {
    if (next() < 0.08) {
      const size = pick([1, 7, 128, 1000, 4096, 65_536]);
      const payload = Buffer.alloc(4);
      payload.writeUInt32BE(size);
      send(2, 0, 4, MessageType.setChunkSize, undefined, payload);
      chunkSize = size;
      continue;
    }
    const id = pick(ids);
    const known = streams.get(id);
    const format = known === undefined ? 0 : pick([0, 1, 2, 3] as const);
    const length = format <= 1 ? pick([0, 1, 5, 127, 128, 129, 900, 5000, 20_000]) : known!.length;
    const extended = format < 3 && next() < 0.15 ? pick([0x1_000_000, 0xffff_fff0]) : undefined;
    const type = pick([MessageType.userControl, MessageType.sharedObjectAmf0, MessageType.aggregate, MessageType.sharedObjectAmf3]);
    send(id, format, length, type, extended, Buffer.alloc(length, 0xab));
  }
  return Buffer.concat(parts);
}

describe('RTMP chunk guard next to node-media-server 4.4.3 parsing the same bytes', () => {
  it.each([1, 2, 3, 4, 5, 6])('agrees on every buffer node-media-server allocates (stream %i)', (seed) => {
    const next = random(seed);
    const bytes = unusualStream(next);
    const guard = new RtmpChunkGuard(LIMITS, new ByteBudget(1024 * MIB));
    // Aggregate messages (media) are among the ones sent.
    guard.allowPublishing();
    const parser = new Rtmp();
    const allocated = () => [...parser.inPackets.values()].reduce((sum, packet) => sum + packet.capacity, 0);
    for (let offset = 0; offset < bytes.length; ) {
      const piece = 1 + Math.floor(next() * 3000);
      const slice = bytes.subarray(offset, offset + piece);
      expect(feed(guard, slice)).toBeUndefined();
      parser.parserData(slice);
      offset += piece;
      // Never behind: node-media-server allocates when the byte after a header arrives, the
      // guard decides when the header is complete.
      expect(guard.parserMemory).toBeGreaterThanOrEqual(allocated());
    }
    expect(guard.parserMemory).toBe(allocated());
    expect(parser.inPackets.size).toBeGreaterThan(10);
  });


  it('ignores a Set Chunk Size where node-media-server does (its clock past 32 bits)', () => {
    const size = (value: number) => {
      const payload = Buffer.alloc(4);
      payload.writeUInt32BE(value);
      return payload;
    };
    const bytes = Buffer.concat([
      clientHandshake(),
      chunkHeader({ format: 0, chunkStreamId: 2, timestamp: 0xffffff, length: 4, type: MessageType.setChunkSize, extendedTimestamp: 0xffff_fff0 }),
      size(4096),
      // A delta of 0x20 takes this chunk stream's clock past 32 bits: node-media-server drops the message.
      chunkHeader({ format: 1, chunkStreamId: 2, timestamp: 0x20, length: 4, type: MessageType.setChunkSize }),
      size(100),
      chunkMessage({ chunkStreamId: 4, type: MessageType.sharedObjectAmf0, payload: Buffer.alloc(3000), chunkSize: 4096 }),
      chunkMessage({ chunkStreamId: 5, type: MessageType.sharedObjectAmf0, payload: Buffer.alloc(700), chunkSize: 4096 }),
    ]);
    const guard = new RtmpChunkGuard(LIMITS);
    const parser = new Rtmp();
    expect(guard.inspect(bytes)).toEqual({ passed: bytes.length });
    parser.parserData(bytes);
    expect(parser.inChunkSize).toBe(4096);
    expect(guard.parserMemory).toBe([...parser.inPackets.values()].reduce((sum, packet) => sum + packet.capacity, 0));
  });
});
