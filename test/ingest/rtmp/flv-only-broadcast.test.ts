import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import type { AvPacket, BroadcastServer } from 'node-media-server/src/core/context.js';
import { broadcastFlvOnly } from '../../../ingest/rtmp/flv-only-broadcast.ts';

// node-media-server's own classes (CommonJS): the original broadcast is the reference.
const require = createRequire(import.meta.url);
const NmsBroadcast = require('node-media-server/src/server/broadcast_server.js') as new (streamPath: string) => BroadcastServer;
const Flv = require('node-media-server/src/protocol/flv.js') as { parserTag(type: number, time: number, size: number, data: Buffer): AvPacket };

/** A subscriber of the broadcast that records what it is sent. */
function recorder(protocol: 'flv' | 'rtmp', id: string) {
  const received: Buffer[] = [];
  return { id, ip: '', protocol, streamPath: '/live/colors', sendBuffer: (buffer: Buffer) => received.push(Buffer.from(buffer)), received };
}

/**
 * A publisher's messages as node-media-server's RTMP parser hands them over: each payload in the
 * parser's buffer for its chunk stream, which is larger than the message and overwritten by the
 * next one (so whatever keeps a payload must copy it).
 */
function* publisherPackets(): Generator<AvPacket> {
  const parserBuffers = new Map<number, Buffer>();
  const message = (type: number, time: number, payload: number[]) => {
    const buffer = parserBuffers.get(type) ?? Buffer.alloc(4096, 0xee);
    parserBuffers.set(type, buffer);
    buffer.fill(0xee);
    Buffer.from(payload).copy(buffer);
    return Flv.parserTag(type, time, payload.length, buffer);
  };
  yield message(18, 0, [0x02, 0x00, 0x0a, ...Buffer.from('onMetaData'), 0x05]);
  yield message(9, 0, [0x17, 0x00, 0, 0, 0, 0x01, 0x64, 0x00, 0x1f, 0xff]);
  yield message(8, 0, [0xaf, 0x00, 0x11, 0x90]);
  for (let gop = 0; gop < 3; gop++) {
    for (let frame = 0; frame < 5; frame++) {
      const time = gop * 2000 + frame * 33 + 0x1000000 * gop; // Timestamps past 24 bits too.
      yield message(9, time, [frame === 0 ? 0x17 : 0x27, 0x01, 0, 0, 66, gop, frame, ...Array.from({ length: 50 + frame }, (_, i) => i)]);
      yield message(8, time + 5, [0xaf, 0x01, gop, frame, 7, 7, 7]);
    }
  }
}

describe('node-media-server broadcasting FLV only (flv-only-broadcast.ts)', () => {
  it('sends the FLV tap exactly the bytes node-media-server would, and a late subscriber the same headers and GOP', () => {
    const reference = new NmsBroadcast('/live/colors');
    const ours = new NmsBroadcast('/live/colors');
    broadcastFlvOnly(ours);
    const referenceTap = recorder('flv', 'a');
    const ourTap = recorder('flv', 'a');
    reference.subscribers.set('a', referenceTap as never);
    ours.subscribers.set('a', ourTap as never);
    // Each packet is read twice, as in node-media-server: the same parser buffer for both servers.
    for (const packet of publisherPackets()) {
      reference.broadcastMessage({ ...packet });
      ours.broadcastMessage({ ...packet });
    }
    expect(ourTap.received.length).toBe(33);
    expect(Buffer.concat(ourTap.received).equals(Buffer.concat(referenceTap.received))).toBe(true);

    // A resubscribe (a restarted ffmpeg): FLV header, metadata, sequence headers, the current GOP.
    const lateReference = recorder('flv', 'b');
    const lateOurs = recorder('flv', 'b');
    reference.postPlay(lateReference as never);
    ours.postPlay(lateOurs as never);
    expect(lateOurs.received.length).toBe(1 + 3 + 10);
    expect(Buffer.concat(lateOurs.received).equals(Buffer.concat(lateReference.received))).toBe(true);
  });

  it('prepares nothing for RTMP players: no RTMP messages, headers or GOP kept', () => {
    const ours = new NmsBroadcast('/live/colors');
    broadcastFlvOnly(ours);
    const rtmpPlayer = recorder('rtmp', 'r');
    ours.subscribers.set('r', rtmpPlayer as never);
    for (const packet of publisherPackets()) ours.broadcastMessage(packet);
    expect(rtmpPlayer.received).toEqual([]);
    expect([ours.rtmpGopCache, ours.rtmpMetaData, ours.rtmpAudioHeader, ours.rtmpVideoHeader]).toEqual([null, null, null, null]);
    expect(ours.flvGopCache?.size).toBe(10);
  });

  it('keeps each tag whole after the parser reuses its buffer for the next message', () => {
    const ours = new NmsBroadcast('/live/colors');
    broadcastFlvOnly(ours);
    const kept: Buffer[] = [];
    ours.subscribers.set('a', { id: 'a', ip: '', protocol: 'flv', sendBuffer: (buffer: Buffer) => kept.push(buffer) } as never);
    const packets = [...publisherPackets()];
    const expected = packets.map(() => Buffer.alloc(0));
    packets.forEach((packet, index) => {
      ours.broadcastMessage(packet);
      expected[index] = Buffer.from(kept[index]!);
      packet.data.fill(0); // The parser's next message.
    });
    kept.forEach((tag, index) => expect(tag.equals(expected[index]!)).toBe(true));
    expect(kept.some((tag) => tag.includes(0xee))).toBe(false);
  });
});
