import { beforeAll, describe, expect, it } from 'vitest';
import { concatBytes } from '../../../ingest/package/bytes.ts';
import { makeFlv, segmentTrack, transcodeToCmaf, type SegmentedTrack } from '../../helpers/media-fixtures.ts';
import { probeDecode } from '../../helpers/ffprobe.ts';

describe('CMAF segmenter on the sidecar ffmpeg output', () => {
  let video: Buffer;
  let audio: Buffer;
  let videoTrack: SegmentedTrack;
  let audioTrack: SegmentedTrack;

  beforeAll(async () => {
    const flv = await makeFlv({ seconds: 7, gopFrames: 60 });
    [video, audio] = (await transcodeToCmaf(flv)) as [Buffer, Buffer];
    videoTrack = segmentTrack(video);
    audioTrack = segmentTrack(audio);
  });

  it('reads the tracks from the init segments, with codec strings from the bitstream', () => {
    expect(videoTrack.track).toMatchObject({ kind: 'video', width: 640, height: 360 });
    expect(videoTrack.track.codec).toMatch(/^avc1\.64[0-9a-f]{4}$/);
    expect(audioTrack.track).toMatchObject({ kind: 'audio', codec: 'mp4a.40.2', channels: 2, sampleRate: 48000 });
  });

  it('cuts 2 s video segments on keyframes, with a contiguous timeline', () => {
    const { segments, track } = videoTrack;
    expect(segments.map((s) => s.duration / track.timescale)).toEqual([2, 2, 2, 1]);
    for (const segment of segments) {
      expect(segment.chunks[0]!.independent).toBe(true);
      expect(segment.chunks.length).toBeGreaterThan(1); // CMAF chunks: several moof+mdat per segment
    }
    for (let i = 1; i < segments.length; i++) {
      expect(segments[i]!.startTime).toBe(segments[i - 1]!.startTime + segments[i - 1]!.duration);
    }
  });

  it('cuts audio at the first chunk past each 2 s boundary', () => {
    const { segments, track } = audioTrack;
    const first = segments[0]!.startTime;
    segments.slice(1).forEach((segment, i) => {
      const start = (segment.startTime - first) / track.timescale;
      const previousChunk = segments[i]!.chunks.at(-1)!;
      // On or just past the grid line (50 ms tolerance), and the chunk before it was short of it.
      expect(start).toBeGreaterThanOrEqual(2 * (i + 1) - 0.05);
      expect((previousChunk.startTime - first) / track.timescale).toBeLessThan(2 * (i + 1) - 0.05);
    });
    const seconds = segments.map((s) => s.duration / track.timescale);
    expect(seconds.reduce((a, b) => a + b, 0)).toBeGreaterThan(6.9);
  });

  it('gives the same segments however the byte stream is split', () => {
    const pieces = segmentTrack(video, [1, 7, 4096, 333, 65536, 8]);
    expect(pieces.segments.length).toBe(videoTrack.segments.length);
    pieces.segments.forEach((segment, i) => expect(Buffer.compare(segment.bytes, videoTrack.segments[i]!.bytes)).toBe(0));
    expect(Buffer.compare(pieces.init, videoTrack.init)).toBe(0);
  });

  it('makes segments that decode with their init segment, alone and in sequence', async () => {
    const second = await probeDecode(concatBytes([videoTrack.init, videoTrack.segments[1]!.bytes]));
    expect(second).toEqual({ codecType: 'video', codecName: 'h264', decodedFrames: 60 });
    const all = await probeDecode(concatBytes([videoTrack.init, ...videoTrack.segments.map((s) => s.bytes)]));
    expect(all.decodedFrames).toBe(210);
    const sound = await probeDecode(concatBytes([audioTrack.init, audioTrack.segments[0]!.bytes]));
    expect(sound).toMatchObject({ codecType: 'audio', codecName: 'aac' });
  });
});

describe('CMAF segmenter grid', () => {
  it('keeps audio and video segments on one 2 s grid, so their sequence numbers never drift apart', async () => {
    const [video, audio] = (await transcodeToCmaf(await makeFlv({ seconds: 21, gopFrames: 60 }))) as [Buffer, Buffer];
    const videoTrack = segmentTrack(video);
    const audioTrack = segmentTrack(audio);
    expect(audioTrack.segments).toHaveLength(videoTrack.segments.length);
    for (const [i, segment] of audioTrack.segments.entries()) {
      const start = segment.startTime / audioTrack.track.timescale;
      // AAC chunks are 0.341 s: a segment starts at most one chunk after its grid line.
      expect(start, `audio segment ${i}`).toBeGreaterThanOrEqual(i * 2 - 0.05);
      expect(start, `audio segment ${i}`).toBeLessThan(i * 2 + 0.35);
    }
  });
});
