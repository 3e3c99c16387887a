/** A run's audio is cut where its video is: one segment for one, and no few-frame audio segment after the video's last. */
import { describe, expect, it } from 'vitest';
import { FLV_TAG_AUDIO, FLV_TAG_VIDEO } from '../../../ingest/media/flv-tag-reader.ts';
import { readTags, writeFlv } from '../../helpers/flv-synth.ts';
import { makeFlv } from '../../helpers/media-fixtures.ts';
import { remuxFlv } from '../../helpers/remux.ts';

const frames = (segments: { chunks: { sampleCount: number }[] }[]) => segments.reduce((n, segment) => n + segment.chunks.reduce((m, chunk) => m + chunk.sampleCount, 0), 0);

describe('segment cuts shared by a run’s audio and video', () => {
  it('keeps audio a few frames past a grid line in the last segment when the video cut no more there (a publisher that stopped)', async () => {
    const tags = readTags(await makeFlv({ seconds: 13, gopFrames: 60 }));
    // The video stops just before 12 s (no keyframe at 12), the audio 0.1 s after it.
    const stopped = tags.filter((tag) => !(tag.type === FLV_TAG_VIDEO && tag.timestamp >= 11_980) && !(tag.type === FLV_TAG_AUDIO && tag.timestamp >= 12_100));
    const result = remuxFlv(writeFlv(stopped));
    const video = result.video!;
    const audio = result.audio!;
    expect(video.segments).toHaveLength(6);
    expect(audio.segments).toHaveLength(video.segments.length);
    // Every frame is there (the last audio segment runs past 12 s).
    const audioFrames = stopped.filter((tag) => tag.type === FLV_TAG_AUDIO && tag.data[1] === 1).length;
    expect(frames(audio.segments)).toBe(audioFrames);
    expect((audio.segments.at(-1)!.startTime + audio.segments.at(-1)!.duration) / audio.track.timescale).toBeGreaterThan(12);
    // Each audio segment starts where its video segment does, within an AAC frame.
    audio.segments.forEach((segment, index) => {
      const videoStart = video.segments[index]!.startTime / video.track.timescale;
      expect(Math.abs(segment.startTime / audio.track.timescale - videoStart), `segment ${index}`).toBeLessThan(0.05);
    });
  });
});
