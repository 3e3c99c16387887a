/**
 * A run that stops mid-segment ends every track at one media time (pure: packagers fed frames,
 * no ffmpeg): a killed encoder's pipes end a part apart, and without the common end the shorter
 * track left a hole before the next run's media that hls.js stalled at.
 */
import { describe, expect, it } from 'vitest';
import { CmafTrackPackager, type PackagerSample } from '../../../ingest/package/cmaf-packager.ts';
import type { TrackConfig } from '../../../ingest/package/cmaf-init-writer.ts';
import { AUDIO_CONFIG, VIDEO_CONFIG } from '../../helpers/track-configs.ts';
import { chunkBytes, type CmafChunk, type CmafSegment } from '../../../ingest/package/cmaf-segmenter.ts';
import { commonRunEnd } from '../../../ingest/pipeline/run-end.ts';
import { readChunkSamples } from '../../helpers/fragment-samples.ts';

const VIDEO = VIDEO_CONFIG;
const AUDIO = AUDIO_CONFIG;

interface Track {
  packager: CmafTrackPackager;
  segments: CmafSegment[];
  parts: CmafChunk[];
}

function track(config: TrackConfig, trimmable = true): Track {
  const out: Track = { packager: undefined!, segments: [], parts: [] };
  out.packager = new CmafTrackPackager(config, { targetSegmentDuration: 2, partTarget: 0.333, gridOrigin: 0, trimmable }, {
    onInit: () => {},
    onChunk: (chunk) => out.parts.push(chunk),
    onSegment: (segment) => out.segments.push(segment),
  });
  return out;
}

/** 30 fps on FLV's millisecond clock, a keyframe every 2 s, up to `seconds`; `reorder`: B-frames shown 2 frames late. */
function videoFrames(seconds: number, reorder = false): PackagerSample[] {
  return Array.from({ length: Math.floor(seconds * 30) }, (_, i) => ({
    decodeTime: Math.round((i * 1000) / 30) * 90,
    compositionOffset: reorder ? 6000 : 0,
    keyframe: i % 60 === 0,
    data: new Uint8Array([i & 0xff, 1, 2]),
  }));
}

function audioFrames(seconds: number): PackagerSample[] {
  return Array.from({ length: Math.floor((seconds * 48000) / 1024) }, (_, i) => ({ decodeTime: i * 1024, compositionOffset: 0, keyframe: true, data: new Uint8Array([i & 0xff]) }));
}

/** Where a track's listed media ends when shown, seconds (tfdt + durations of its last segment, plus its keyframe's offset). */
function shownEnd(config: TrackConfig, { segments }: Track): number {
  const last = segments.at(-1)!;
  const samples = last.chunks.flatMap((chunk) => readChunkSamples(chunkBytes(chunk)).samples);
  const first = samples[0]!;
  const end = last.startTime + samples.reduce((sum, sample) => sum + sample.duration, 0);
  expect(end).toBe(last.startTime + last.duration);
  return (end + first.compositionOffset) / config.timescale;
}

function endTogether(tracks: Track[]): void {
  const cut = commonRunEnd(tracks.map((t) => t.packager.mediaEnd!), 1);
  for (const t of tracks) t.packager.end(cut);
}

describe('a run ending mid-segment', () => {
  it('ends its video and audio at the same media time, where the earlier one stopped', () => {
    // Killed at 5.4 s of video; its audio pipe had delivered up to 5.1 s (a part earlier).
    const video = track(VIDEO);
    const audio = track(AUDIO);
    for (const frame of videoFrames(5.4)) video.packager.push(frame);
    for (const frame of audioFrames(5.1)) audio.packager.push(frame);
    endTogether([video, audio]);
    const [videoEnd, audioEnd] = [shownEnd(VIDEO, video), shownEnd(AUDIO, audio)];
    expect(audioEnd).toBeGreaterThan(5.05);
    // Within one AAC frame (21 ms), none past the other: no hole for the next run to open.
    expect(Math.abs(videoEnd - audioEnd), `video ${videoEnd}, audio ${audioEnd}`).toBeLessThan(1024 / 48000);
    expect(videoEnd).toBeLessThanOrEqual(audioEnd + 1e-9);
    // The segments up to the cut are whole; the last one shortened, its parts' frames decodable as written.
    expect(video.segments.map((segment) => segment.startTime / 90_000)).toEqual([0, 2, 4]);
    expect(audio.segments.map((segment) => Math.round(segment.startTime / 48)).length).toBe(3);
  });

  it('without the common end (tracks not trimmable), the video would run 0.3 s past the audio: the hole the test guards against', () => {
    const video = track(VIDEO, false);
    const audio = track(AUDIO, false);
    for (const frame of videoFrames(5.4)) video.packager.push(frame);
    for (const frame of audioFrames(5.1)) audio.packager.push(frame);
    endTogether([video, audio]);
    expect(shownEnd(VIDEO, video) - shownEnd(AUDIO, audio)).toBeGreaterThan(0.25);
  });

  it('lines up a B-frame source with a rung made from it without B-frames by when frames are shown', () => {
    // The rung's frames carry the source frames' presentation times (ffmpeg -copyts): decode times 2 frames later.
    const source = track(VIDEO);
    const rung = track(VIDEO);
    for (const frame of videoFrames(5.4, true)) source.packager.push(frame);
    for (const frame of videoFrames(5.2)) rung.packager.push({ ...frame, decodeTime: frame.decodeTime + 6000 });
    endTogether([source, rung]);
    expect(Math.abs(shownEnd(VIDEO, source) - shownEnd(VIDEO, rung))).toBeLessThan(1e-6);
  });

  it('does not cut the others back to a track that stalled a segment or more behind (its missed segments are gaps)', () => {
    expect(commonRunEnd([9.4, 9.3, 5.1], 1)).toBe(9.3);
    expect(commonRunEnd([9.4, 9.1], 1)).toBe(9.1);
    expect(commonRunEnd([], 1)).toBeUndefined();
  });
});
