/**
 * A ladder run with real ffmpeg: the source passes through in-process, ffmpeg encodes the rungs
 * and hands them back as frames, and the sidecar's packager cuts every rendition on one grid.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { planRun } from '../../../ingest/pipeline/run-plan.ts';
import { DEFAULT_LADDER_CONFIG, PASSTHROUGH_ONLY, planLadder, type Rendition } from '../../../ingest/transcode/ladder.ts';
import { segmentPresentationStart } from '../../helpers/cmaf.ts';
import { probeDecode } from '../../helpers/ffprobe.ts';
import { runLadder, type LadderRunResult, type RunTrack } from '../../helpers/ladder-run.ts';
import { makeFlv, probeFlv } from '../../helpers/media-fixtures.ts';

const PART_TARGET = 0.333;
const FRAME_SECONDS = 1 / 30;

function planFor(flv: Buffer): Rendition[] {
  return planLadder(probeFlv(flv, 4096).facts, DEFAULT_LADDER_CONFIG, 2).renditions;
}

/** When each segment's first frame is shown, seconds, as a player computes it (tfdt + composition offset). */
function segmentStarts(track: RunTrack): number[] {
  return track.segments.map((segment) => segmentPresentationStart(track.init, segment.bytes));
}

function frames(track: RunTrack): number {
  return track.segments.reduce((n, segment) => n + segment.chunks.reduce((m, chunk) => m + chunk.sampleCount, 0), 0);
}

function expectAlignedWith(source: RunTrack, rung: RunTrack, name: string): void {
  const expected = segmentStarts(source);
  const actual = segmentStarts(rung);
  expect(actual.length, `${name}: segments`).toBe(expected.length);
  actual.forEach((start, index) => expect(Math.abs(start - expected[index]!), `${name}: segment ${index} starts at ${start}, the source's at ${expected[index]}`).toBeLessThan(FRAME_SECONDS));
}

/** Parts no longer than the part target; a part says it reaches the segment's end exactly when the next part starts a new segment. */
function expectExactParts(track: RunTrack, name: string): void {
  expect(track.parts.length).toBeGreaterThan(track.segments.length * 3);
  for (const { chunk } of track.parts) expect(chunk.duration / track.track.timescale, `${name}: part duration`).toBeLessThanOrEqual(PART_TARGET + 0.0005);
  const lastOfSegment = new Set(track.segments.map((segment) => segment.chunks.at(-1)));
  for (const { chunk, position } of track.parts) expect(position.reachesBoundary, `${name}: part at ${chunk.startTime}`).toBe(lastOfSegment.has(chunk));
  for (const segment of track.segments) expect(segment.chunks[0]!.independent).toBe(true);
}

describe('ladder run: encoded rungs packaged by the sidecar, on the source grid', () => {
  let passthrough: LadderRunResult;
  let renditions: Rendition[];
  let flv: Buffer;

  beforeAll(async () => {
    // B-frames in the source, none in the rungs: decode times differ, presentation must not. Its
    // keyframes drift off the 2 s grid (every 2.02 s, still close enough to pass through), so a
    // rung lines up only if its keyframes follow the source's.
    flv = await makeFlv({ seconds: 9, gopFrames: 600, size: '1280x720', bFrames: 2, forceKeyframes: 'expr:gte(t,n_forced*2.02)' });
    renditions = planFor(flv);
    passthrough = await runLadder(flv, renditions, { pieceSize: 4096 });
  }, 60_000);

  it('has ffmpeg encode only the rungs (the source and its AAC remuxed in-process), all packaged by the sidecar', () => {
    expect(renditions.map((r) => `${r.name}:${r.encoding}`)).toEqual(['source:copy', '480p:h264', '360p:h264', 'audio:aac']);
    const plan = planRun(renditions, [flv]);
    expect(plan.remuxed.map((r) => r.name)).toEqual(['source', 'audio']);
    expect(plan.encoded.map((r) => r.name)).toEqual(['480p', '360p']);
    expect(planRun(renditions.filter((r) => r.encoding !== 'h264'), [flv]).encoded).toEqual([]);
    expect(passthrough.pid).toBeTypeOf('number');
    expect(passthrough.exits).toEqual([]);
    expect([...passthrough.tracks.keys()].sort()).toEqual(['360p', '480p', 'audio', 'source']);
  });

  it('starts every rung segment on the frame the source segment starts on, one segment for one', () => {
    const source = passthrough.tracks.get('source')!;
    expect(source.segments.length).toBe(5);
    expectAlignedWith(source, passthrough.tracks.get('480p')!, '480p');
    expectAlignedWith(source, passthrough.tracks.get('360p')!, '360p');
    expect(passthrough.tracks.get('audio')!.segments.length).toBe(source.segments.length);
  });

  it('cuts every rendition into parts of at most PART-TARGET, each hinting truly what comes next', () => {
    for (const [name, track] of passthrough.tracks) expectExactParts(track, name);
  });

  it("makes rung CMAF that ffprobe decodes, frame for frame with the source", async () => {
    const source = passthrough.tracks.get('source')!;
    for (const [name, height] of [['480p', 480], ['360p', 360]] as const) {
      const rung = passthrough.tracks.get(name)!;
      expect(rung.track).toMatchObject({ kind: 'video', height });
      const decoded = await probeDecode(rung.bytes());
      expect(decoded.codecName).toBe('h264');
      expect(decoded.decodedFrames).toBe(frames(rung));
      expect(frames(rung)).toBe(frames(source));
    }
  });

  it('encodes the top of a 6 s-GOP source on the 2 s grid, its rung lined up with it', async () => {
    const longGop = await makeFlv({ seconds: 7, gopFrames: 180, size: '854x480' });
    const plan = planFor(longGop);
    expect(plan.map((r) => `${r.name}:${r.encoding}`)).toEqual(['source:h264', '360p:h264', 'audio:aac']);
    const result = await runLadder(longGop, plan, { pieceSize: 4096 });
    const top = result.tracks.get('source')!;
    expect(top.segments.slice(0, -1).map((segment) => Number((segment.duration / top.track.timescale).toFixed(2)))).toEqual([2, 2, 2]);
    expectAlignedWith(top, result.tracks.get('360p')!, '360p');
    expectExactParts(top, 'source');
    expect(result.tracks.get('audio')!.segments.length).toBe(top.segments.length);
  }, 60_000);

  it('reports an ffmpeg killed mid-segment as an unexpected exit, and ends every track of the run at one media time', async () => {
    const result = await runLadder(flv, renditions, {
      pieceSize: 4096,
      // Half the source in, and ffmpeg given a moment to encode it: its pipes and the in-process tracks hold different ends.
      midway: {
        fraction: 0.55,
        action: async (run, tracks) => {
          // Once ffmpeg's rungs are within half a second of the source (its start takes a while on a loaded machine).
          const partsEnd = (name: string) => {
            const track = tracks.get(name);
            const last = track?.parts.at(-1)?.chunk;
            return last ? (last.startTime + last.duration) / track!.track.timescale : 0;
          };
          while (Math.min(partsEnd('480p'), partsEnd('360p')) < partsEnd('source') - 0.5) await new Promise((resolve) => setTimeout(resolve, 20));
          process.kill(run.pid!, 'SIGKILL');
          await new Promise((resolve) => setTimeout(resolve, 300));
        },
      },
    });
    expect(result.exits).toEqual([expect.stringMatching(/^killed by SIGKILL/)]);
    // When each track's last frame ends on screen: its last segment's presentation start plus its duration.
    const ends = [...result.tracks].map(([name, track]) => {
      const last = track.segments.at(-1)!;
      return [name, Number((segmentPresentationStart(track.init, last.bytes) + last.duration / track.track.timescale).toFixed(4))] as const;
    });
    expect(ends.length).toBe(4);
    const video = ends.filter(([name]) => name !== 'audio').map(([, end]) => end);
    // No track past another: video to the tick, audio within one AAC frame (21 ms).
    for (const end of video) expect(end, `ends ${JSON.stringify(ends)}`).toBeCloseTo(video[0]!, 3);
    const audio = ends.find(([name]) => name === 'audio')![1];
    expect(Math.abs(audio - video[0]!), `ends ${JSON.stringify(ends)}`).toBeLessThan(0.022);
  }, 60_000);

  it('keeps audio and video segments on one 2 s grid, so their sequence numbers never drift apart', async () => {
    const result = await runLadder(await makeFlv({ seconds: 21, gopFrames: 60 }), PASSTHROUGH_ONLY);
    const video = result.tracks.get('source')!;
    const audio = result.tracks.get('audio')!;
    expect(audio.segments).toHaveLength(video.segments.length);
    expect(video.segments.length).toBe(11);
    for (const [i, segment] of audio.segments.entries()) {
      const start = segment.startTime / audio.track.timescale;
      // AAC frames are 21 ms: a segment starts on the first frame at its grid line (50 ms tolerance).
      expect(start, `audio segment ${i}`).toBeGreaterThanOrEqual(i * 2 - 0.05);
      expect(start, `audio segment ${i}`).toBeLessThan(i * 2 + 0.05);
    }
  }, 60_000);
});
