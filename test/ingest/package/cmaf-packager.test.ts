import { describe, expect, it } from 'vitest';
import { CmafTrackPackager, type PackagerSample, type SegmentCuts } from '../../../ingest/package/cmaf-packager.ts';
import { chunkBytes, segmentChunks, type ChunkPosition, type CmafChunk, type CmafSegment } from '../../../ingest/package/cmaf-segmenter.ts';
import { writeFragment } from '../../../ingest/package/cmaf-fragment-writer.ts';
import type { TrackConfig } from '../../../ingest/package/cmaf-init-writer.ts';
import { AUDIO_CONFIG, VIDEO_CONFIG } from '../../helpers/track-configs.ts';
import { readChunkSamples } from '../../helpers/fragment-samples.ts';

const VIDEO = VIDEO_CONFIG;
const AUDIO = AUDIO_CONFIG;

interface Emitted {
  chunks: { chunk: CmafChunk; position: ChunkPosition; atFrame: number }[];
  segments: { segment: CmafSegment; atFrame: number }[];
  overdue: number;
}

function pack(config: TrackConfig, samples: PackagerSample[], options: { maxSegmentDuration?: number } = {}): Emitted {
  const emitted: Emitted = { chunks: [], segments: [], overdue: 0 };
  let frame = 0;
  const packager = new CmafTrackPackager(config, { targetSegmentDuration: 2, partTarget: 0.333, ...options }, {
    onInit: () => {},
    onChunk: (chunk, _track, position) => emitted.chunks.push({ chunk, position, atFrame: frame }),
    onSegment: (segment) => emitted.segments.push({ segment, atFrame: frame }),
    onKeyframeOverdue: () => (emitted.overdue += 1),
  });
  for (const sample of samples) {
    packager.push(sample);
    frame += 1;
  }
  packager.end();
  return emitted;
}

/** 30 fps video on FLV's millisecond clock (33/34 ms steps), keyframes where `isKey` says. */
function video(seconds: number, isKey: (frame: number) => boolean): PackagerSample[] {
  return Array.from({ length: seconds * 30 }, (_, i) => ({
    decodeTime: Math.round((i * 1000) / 30) * 90,
    compositionOffset: i % 3 === 0 ? 6000 : 0,
    keyframe: isKey(i),
    data: new Uint8Array([i & 0xff, 1, 2]),
  }));
}

function audio(seconds: number): PackagerSample[] {
  return Array.from({ length: Math.ceil((seconds * 48000) / 1024) }, (_, i) => ({ decodeTime: i * 1024, compositionOffset: 0, keyframe: true, data: new Uint8Array([i & 0xff]) }));
}

describe('packager boundaries (decided by the sidecar)', () => {
  it.each([
    { what: 'a 2 s GOP', config: VIDEO, samples: video(7, (i) => i % 60 === 0), starts: [0, 2, 4, 6] },
    { what: 'a 1 s GOP (every other keyframe starts a segment)', config: VIDEO, samples: video(7, (i) => i % 30 === 0), starts: [0, 2, 4, 6] },
    { what: 'irregular keyframes (the first past each grid line)', config: VIDEO, samples: video(8, (i) => [0, 75, 93, 150, 210].includes(i)), starts: [0, 2.5, 5, 7] },
    { what: 'audio, cut on the same grid (50 ms tolerance)', config: AUDIO, samples: audio(6.5), starts: [0, 1.962667, 3.968, 5.952] },
  ])('$what: segments start on keyframes past the grid, parts stay within the target', ({ config, samples, starts }) => {
    const { chunks, segments } = pack(config, samples);
    const timescale = config.timescale;
    expect(segments.map(({ segment }) => Number((segment.startTime / timescale).toFixed(6)))).toEqual(starts);
    for (const { segment } of segments) {
      expect(segment.chunks[0]!.independent).toBe(true);
      expect(segment.duration).toBe(segment.chunks.reduce((sum, chunk) => sum + chunk.duration, 0));
    }
    // Parts: within the target, contiguous, and each says truly what comes next.
    for (const [i, { chunk, position }] of chunks.entries()) {
      if (i < chunks.length - 1) expect(chunk.duration / timescale).toBeLessThanOrEqual(0.333);
      const next = chunks[i + 1];
      if (!next) continue;
      expect(next.chunk.startTime).toBe(chunk.startTime + chunk.duration);
      if (position.reachesBoundary) expect(next.position).toEqual({ segmentStartTime: chunk.startTime + chunk.duration, index: 0, reachesBoundary: next.position.reachesBoundary });
      else expect(next.position).toMatchObject({ segmentStartTime: position.segmentStartTime, index: position.index + 1 });
    }
    // Every frame is in exactly one part, in order, with its own bytes.
    const written = chunks.flatMap(({ chunk }) => readChunkSamples(chunkBytes(chunk)).samples);
    expect(written.map((sample) => sample.decodeTime)).toEqual(samples.map((sample) => sample.decodeTime));
    expect(written.map((sample) => sample.data[0])).toEqual(samples.map((sample) => sample.data[0]));
  });

  it('uses the part target: 9 frames of 30 fps video (0.300 s), 14 AAC frames (0.299 s) in 2 s segments at 48 kHz', () => {
    const videoParts = pack(VIDEO, video(2, (i) => i === 0)).chunks.map(({ chunk }) => chunk.sampleCount);
    expect(videoParts.slice(0, -1).every((count) => count === 9)).toBe(true);
    const audioParts = pack(AUDIO, audio(1.9)).chunks.map(({ chunk }) => chunk.sampleCount);
    expect(audioParts.slice(0, -1).every((count) => count === 14)).toBe(true);
  });

  /**
   * hls.js 1.7 in low-latency mode stalled on a 60 ms hole at a segment boundary (player matrix,
   * 2026-12-06 18:33: buffered 17.60-39.94 and 40.00-40.32): the segment's last audio part, 3
   * AAC frames (64 ms) after six of 15, never appended. A last part as long as the video's
   * (0.2 s at 30 fps) leaves no such sliver between a segment's parts and the next segment's.
   */
  it.each([48000, 44100])('leaves every 2 s segment a last audio part of at least 0.15 s at %s Hz, alone or cut where its video cuts', (rate) => {
    const config: TrackConfig = { kind: 'audio', audioSpecificConfig: new Uint8Array([0x11, 0x90]), sampleRate: rate, channels: 2, timescale: rate };
    const frames = (seconds: number) => Array.from({ length: Math.ceil((seconds * rate) / 1024) }, (_, i) => ({ decodeTime: i * 1024, compositionOffset: 0, keyframe: true, data: new Uint8Array([i & 0xff]) }));
    const alone = pack(config, frames(12)).chunks;
    // With video (a 2 s GOP at 30 fps), fed in time order as an FLV interleaves them, audio first at a tie.
    const cuts: SegmentCuts = {};
    const followed: Emitted['chunks'] = [];
    const options = { targetSegmentDuration: 2, partTarget: 0.333, gridOrigin: 0 };
    const videoPackager = new CmafTrackPackager(VIDEO, { ...options, recordCuts: cuts }, { onInit: () => {}, onSegment: () => {} });
    const audioPackager = new CmafTrackPackager(config, { ...options, followCuts: cuts }, { onInit: () => {}, onSegment: () => {}, onChunk: (chunk, _track, position) => followed.push({ chunk, position, atFrame: 0 }) });
    const timeline = [
      ...frames(12).map((sample) => ({ at: sample.decodeTime / rate, push: () => audioPackager.push(sample) })),
      ...video(12, (i) => i % 60 === 0).map((sample) => ({ at: sample.decodeTime / 90_000 + 1e-9, push: () => videoPackager.push(sample) })),
    ].sort((a, b) => a.at - b.at);
    for (const step of timeline) step.push();
    for (const chunks of [alone, followed]) {
      const lastParts = chunks.slice(0, -1).filter(({ position }) => position.reachesBoundary);
      expect(lastParts.length).toBeGreaterThanOrEqual(4);
      for (const { chunk } of lastParts) expect(chunk.duration / rate).toBeGreaterThanOrEqual(0.15);
      for (const { chunk, position } of chunks.slice(0, -1)) {
        expect(chunk.duration / rate).toBeLessThanOrEqual(0.333);
        if (!position.reachesBoundary) expect(chunk.duration / rate).toBeGreaterThanOrEqual(0.85 * 0.333);
      }
    }
  });

  it('closes a segment the moment the keyframe that starts the next one arrives', () => {
    const samples = video(5, (i) => i % 60 === 0);
    const { segments, chunks } = pack(VIDEO, samples);
    // Pushed frame 60 (the keyframe at 2 s): the first segment and its last part are out before frame 61 is.
    expect(segments[0]!.atFrame).toBe(60);
    expect(chunks.find(({ position }) => position.reachesBoundary)!.atFrame).toBe(60);
    // A part closes when the frame that does not fit arrives: one frame after its last one.
    expect(chunks[0]!.atFrame).toBe(chunks[0]!.chunk.sampleCount);
  });

  it('drops frames before the first keyframe', () => {
    const { segments } = pack(VIDEO, video(3, (i) => i === 10 || i === 70));
    expect(segments[0]!.segment.startTime).toBe(Math.round((10 * 1000) / 30) * 90);
  });

  it('cuts a segment whose keyframe is overdue, says so once, and waits for the next keyframe', () => {
    const { segments, overdue } = pack(VIDEO, video(9, (i) => i === 0 || i === 120 || i === 240), { maxSegmentDuration: 2.5 });
    expect(overdue).toBe(1);
    expect(segments.map(({ segment }) => Math.round(segment.startTime / 9000) / 10)).toEqual([0, 4, 8]);
    expect(segments[0]!.segment.duration / 90_000).toBeLessThanOrEqual(2.5);
  });
});

describe('a part\'s bytes are not a copy of its frames', () => {
  it('is its moof and mdat header followed by the very bytes each frame came in, byte for byte writeFragment\'s', () => {
    const samples = video(3, (i) => i % 60 === 0);
    const { chunks, segments } = pack(VIDEO, samples);
    let frame = 0;
    let sequenceNumber = 0;
    for (const { chunk } of chunks) {
      const [header, ...views] = chunk.pieces;
      // The same objects the frames were pushed with: nothing media-sized allocated or copied.
      expect(views.length).toBe(chunk.sampleCount);
      views.forEach((view, index) => expect(view).toBe(samples[frame + index]!.data));
      expect(chunk.byteLength).toBe(header!.byteLength + views.reduce((sum, view) => sum + view.byteLength, 0));
      // Joined, exactly the one-buffer chunk of the same samples (the byte-exact writer tests cover that one).
      const written = readChunkSamples(chunkBytes(chunk)).samples;
      const durations = written.map((sample) => sample.duration);
      const offsets = written.map((sample) => sample.compositionOffset);
      const fragmentSamples = views.map((data, index) => ({ data, duration: durations[index]!, compositionOffset: offsets[index]!, keyframe: samples[frame + index]!.keyframe }));
      expect(chunkBytes(chunk)).toEqual(writeFragment('video', ++sequenceNumber, chunk.startTime, fragmentSamples));
      frame += chunk.sampleCount;
    }
    expect(frame).toBe(samples.length - samples.findIndex((sample) => sample.keyframe));
    // A segment's bytes are its parts' pieces end to end, its length theirs.
    for (const { segment } of segments) expect(segmentChunks(segment).reduce((sum, piece) => sum + piece.byteLength, 0)).toBe(segment.byteLength);
  });
});
