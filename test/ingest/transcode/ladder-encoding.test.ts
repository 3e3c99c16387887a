/** The ladder as the sidecar really makes it: one ffmpeg, one filter graph, its rungs packaged with the source, boundaries that line up. */
import { describe, expect, it } from 'vitest';
import { DEFAULT_LADDER_CONFIG, planLadder, type Rendition } from '../../../ingest/transcode/ladder.ts';
import { segmentPresentationStart } from '../../helpers/cmaf.ts';
import { runLadder } from '../../helpers/ladder-run.ts';
import { makeFlv, probeFlv, segmentTrack, transcodeToCmaf, type SegmentedTrack } from '../../helpers/media-fixtures.ts';

function planFor(flv: Buffer): Rendition[] {
  return planLadder(probeFlv(flv, 4096).facts, DEFAULT_LADDER_CONFIG, 2).renditions;
}

/**
 * When each segment's keyframe is presented, seconds, as a player computes it. (ffprobe's pts
 * adds each track's initial composition delay, which differs between the source's encoder and ours.)
 */
function segmentStarts({ init, segments }: SegmentedTrack): number[] {
  return segments.map((segment) => Number(segmentPresentationStart(init, segment.bytes).toFixed(3)));
}

/** Segment durations, seconds, all but the last (which ends wherever the input did). */
function fullDurations({ track, segments }: SegmentedTrack): number[] {
  return segments.slice(0, -1).map((segment) => Number((segment.duration / track.timescale).toFixed(2)));
}

describe('encoded ladder', () => {
  it('passes a 720p source with 2 s keyframes through and encodes 480p and 360p with keyframes on the same frames', async () => {
    const flv = await makeFlv({ seconds: 7, gopFrames: 60, size: '1280x720' });
    const renditions = planFor(flv);
    expect(renditions.map((r) => `${r.name}:${r.encoding}`)).toEqual(['source:copy', '480p:h264', '360p:h264', 'audio:aac']);
    const tracks = (await transcodeToCmaf(flv, renditions)).map((bytes) => segmentTrack(bytes));
    const [source, p480, p360, audio] = tracks as [SegmentedTrack, SegmentedTrack, SegmentedTrack, SegmentedTrack];
    expect([source.track.height, p480.track.height, p360.track.height]).toEqual([720, 480, 360]);
    expect([p480.track.width, p360.track.width]).toEqual([854, 640]);
    expect(fullDurations(source)).toEqual([2, 2, 2]);
    const starts = segmentStarts(source);
    expect(starts).toHaveLength(4);
    expect(segmentStarts(p480)).toEqual(starts);
    expect(segmentStarts(p360)).toEqual(starts);
    expect(audio.segments.length).toBe(source.segments.length);
  });

  it('encodes the top rendition of a 6 s-GOP source, every rendition cut in 2 s segments', async () => {
    const flv = await makeFlv({ seconds: 7, gopFrames: 180, size: '854x480' });
    const renditions = planFor(flv);
    expect(renditions.map((r) => `${r.name}:${r.encoding}`)).toEqual(['source:h264', '360p:h264', 'audio:aac']);
    const tracks = (await transcodeToCmaf(flv, renditions)).map((bytes) => segmentTrack(bytes));
    expect(tracks[0]!.track.height).toBe(480);
    expect(fullDurations(tracks[0]!)).toEqual([2, 2, 2]);
    expect(segmentStarts(tracks[1]!)).toEqual(segmentStarts(tracks[0]!));
    expect(tracks[2]!.segments.length).toBe(4);
  });

  it('cuts a passed-through segment that outgrows the limit and reports the overdue keyframe once', async () => {
    const flv = await makeFlv({ seconds: 8, gopFrames: 180 });
    const result = await runLadder(flv, [{ name: 'source', kind: 'video', encoding: 'copy' }], { maxPassthroughSegmentDuration: 2.45 });
    const segments = result.tracks.get('source')!.segments;
    const overdue = result.overdue.length;
    expect(overdue).toBe(1);
    const seconds = segments.map((segment) => segment.duration / segment.track.timescale);
    for (const duration of seconds) expect(duration).toBeLessThanOrEqual(2.45);
    expect(segments.every((segment) => segment.chunks[0]!.independent)).toBe(true);
    expect(segments.map((segment) => Math.round(segment.startTime / segment.track.timescale))).toEqual([0, 6]);
  });
});
