/**
 * The part announcer's word to the edge when a part it named as next will not come: each part
 * names the one after it (the edge's preload hint), and a viewer holds a request for that name;
 * when the sidecar will not send it (storage behind, the run ended), the edge must hear so at once.
 */
import { describe, expect, it } from 'vitest';
import type { ChunkPosition, CmafChunk } from '../../../ingest/package/cmaf-segmenter.ts';
import type { CmafTrack } from '../../../ingest/package/cmaf-track.ts';
import { PartAnnouncer, type SegmentNumber } from '../../../ingest/publish/part-announcer.ts';
import { StreamOutput } from '../../../ingest/publish/stream-output.ts';
import { PASSTHROUGH_ONLY } from '../../../ingest/transcode/ladder.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import type { OutgoingPart } from '../../../ingest/upload/live-channel-queue.ts';
import type { PartReport } from '../../../ingest/upload/live-channel.ts';
import type { LiveChannelSink } from '../../../ingest/upload/part-sink.ts';

const SESSION = 'sessiona1';
const NEXT_SESSION = 'sessionb2';
const TRACK: CmafTrack = { trackId: 1, kind: 'video', timescale: 90_000, codec: 'avc1.64001f', defaultSampleDuration: 3000, defaultSampleFlags: 0 };
const CHUNK_TICKS = 30_000;
const SEGMENT_TICKS = 6 * CHUNK_TICKS;

/** What the announcer told the edge, in order. */
class RecordingSink implements LiveChannelSink {
  readonly said: string[] = [];
  sendPart(_playbackId: string, part: OutgoingPart, report: PartReport): void {
    this.said.push(`part ${part.rendition}/${part.file} (next ${part.next})`);
    report.sent();
  }
  withdrawPart(_playbackId: string, rendition: string, file: string, reason: string): void {
    this.said.push(`withdrawn ${rendition}/${file}: ${reason}`);
  }
}

function setUp() {
  const sink = new RecordingSink();
  const troubles: string[] = [];
  const announcer = new PartAnnouncer({ playbackId: 'parts', sink, partTarget: 0.334, now: () => 0, onTrouble: (message) => troubles.push(message) });
  /** Chunk `index` of segment `segment` (six chunks a segment, the sixth reaching the grid line). */
  const chunk = (rendition: string, segment: number, index: number, number: SegmentNumber, session = SESSION) => {
    const startTime = segment * SEGMENT_TICKS + index * CHUNK_TICKS;
    const bytes: CmafChunk = { pieces: [new Uint8Array([segment, index])], byteLength: 2, startTime, duration: CHUNK_TICKS, sampleCount: 10, independent: index === 0 };
    const position: ChunkPosition = { segmentStartTime: segment * SEGMENT_TICKS, index, reachesBoundary: index === 5 };
    announcer.announce(rendition, session, bytes, position, TRACK, () => number);
  };
  return { sink, announcer, chunk, troubles };
}

const name = (segment: number, index: number, session = SESSION) => `${session}-${segment * SEGMENT_TICKS}.p${index}.m4s`;
const BEHIND: SegmentNumber = { withheld: 'storage is a segment or more behind' };

describe('part announcer: parts named as next that will not come', () => {
  it('says nothing but parts while every part it named comes', () => {
    const { sink, chunk } = setUp();
    for (let segment = 0; segment < 2; segment++) for (let index = 0; index < 6; index++) chunk('source', segment, index, segment);
    expect(sink.said.filter((line) => !line.startsWith('part '))).toEqual([]);
    expect(sink.said).toHaveLength(12);
    expect(sink.said[5]).toBe(`part source/${name(0, 5)} (next ${name(1, 0)})`);
  });

  it("withdraws the next segment's first part, named by the last part, when that segment's parts are withheld (storage behind); announces again from the next segment it numbers", () => {
    const { sink, chunk } = setUp();
    for (let index = 0; index < 6; index++) chunk('source', 0, index, 0);
    sink.said.length = 0;
    for (let index = 0; index < 6; index++) chunk('source', 1, index, BEHIND);
    // At once, when the segment's first chunk is withheld; nothing for the chunks after it (nothing named them).
    expect(sink.said).toEqual([`withdrawn source/${name(1, 0)}: storage is a segment or more behind`]);
    chunk('source', 2, 0, 2);
    expect(sink.said.at(-1)).toBe(`part source/${name(2, 0)} (next ${name(2, 1)})`);
  });

  it('withdraws only the rendition whose segment is withheld', () => {
    const { sink, chunk } = setUp();
    for (const rendition of ['source', 'audio']) for (let index = 0; index < 6; index++) chunk(rendition, 0, index, 0);
    sink.said.length = 0;
    chunk('audio', 1, 0, 1);
    chunk('source', 1, 0, BEHIND);
    expect(sink.said).toEqual([`part audio/${name(1, 0)} (next ${name(1, 1)})`, `withdrawn source/${name(1, 0)}: storage is a segment or more behind`]);
  });

  it('withdraws every part still named next when a run ends (a new run begins, the publisher leaves), once each', () => {
    const { sink, announcer, chunk } = setUp();
    for (let index = 0; index < 3; index++) chunk('source', 0, index, 0);
    for (let index = 0; index < 6; index++) chunk('audio', 0, index, 0);
    sink.said.length = 0;
    announcer.withdrawHints('the run ended');
    expect(sink.said.sort()).toEqual([`withdrawn audio/${name(1, 0)}: the run ended`, `withdrawn source/${name(0, 3)}: the run ended`]);
    announcer.withdrawHints('the run ended');
    expect(sink.said).toHaveLength(2);
    // The next session's parts go out as ever.
    chunk('source', 0, 0, 1, NEXT_SESSION);
    expect(sink.said.at(-1)).toBe(`part source/${name(0, 0, NEXT_SESSION)} (next ${name(0, 1, NEXT_SESSION)})`);
  });
});

describe('stream output: the hints of a run that ended', () => {
  it('withdraws the part named next when its run stops, when a new run begins, and when the publisher leaves', async () => {
    const sink = new RecordingSink();
    const errors: unknown[] = [];
    const output = new StreamOutput({
      playbackId: 'parts',
      renditions: PASSTHROUGH_ONLY,
      store: new MemoryObjectStore(),
      targetSegmentDuration: 2,
      windowSegments: 5,
      now: Date.now,
      onError: (error) => errors.push(error),
      lowLatency: { sink, partTarget: 0.334 },
    });
    const firstChunk = (session: string) => {
      output.noteChunkReceived(session, 0.333);
      output.publishPart(session, 'source', { pieces: [new Uint8Array([1])], byteLength: 1, startTime: 0, duration: CHUNK_TICKS, sampleCount: 10, independent: true }, { segmentStartTime: 0, index: 0, reachesBoundary: false }, TRACK);
    };
    const withdrawals = () => sink.said.filter((line) => line.startsWith('withdrawn'));
    output.beginSession(SESSION);
    firstChunk(SESSION);
    expect(sink.said).toEqual([`part source/${name(0, 0)} (next ${name(0, 1)})`]);
    output.runEnded();
    expect(withdrawals()).toEqual([`withdrawn source/${name(0, 1)}: the run that was cutting its segment stopped (the encoder failed or is replaced)`]);
    output.beginSession(NEXT_SESSION);
    expect(withdrawals()).toHaveLength(1);
    firstChunk(NEXT_SESSION);
    output.beginSession('sessionc3');
    expect(withdrawals().at(-1)).toBe(`withdrawn source/${name(0, 1, NEXT_SESSION)}: the run that was cutting its segment ended (a new run began)`);
    firstChunk('sessionc3');
    await output.pause();
    expect(withdrawals().at(-1)).toBe(`withdrawn source/${name(0, 1, 'sessionc3')}: the publisher left`);
    expect(errors).toEqual([]);
  });
});
