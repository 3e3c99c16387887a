import { describe, expect, it } from 'vitest';
import { runRenditions } from '../../../ingest/pipeline/run-renditions.ts';
import { DEFAULT_LADDER_CONFIG, type SourceFacts } from '../../../ingest/transcode/ladder.ts';

const source = (height: number, keyframeInterval: number | undefined, probedSeconds = 2.2): SourceFacts => ({
  video: { playableH264: true, width: Math.round((height * 16) / 9), height, keyframeInterval, probedSeconds },
  audio: true,
});
const decide = (facts: SourceFacts, streamLadder?: ReturnType<typeof runRenditions>['renditions'], encodeTopFromNowOn?: string) =>
  runRenditions({ facts, ladder: DEFAULT_LADDER_CONFIG, targetSegmentDuration: 2, streamLadder, encodeTopFromNowOn });
const names = (renditions: readonly { name: string }[]) => renditions.map((rendition) => rendition.name);
const topEncoding = (renditions: readonly { name: string; encoding: string }[]) => renditions.find((rendition) => rendition.name === 'source')?.encoding;

describe("a run's renditions", () => {
  it("lets the stream's first source choose its ladder, passing a fitting source through", () => {
    const first = decide(source(720, 2));
    expect(names(first.renditions)).toEqual(['source', '480p', '360p', 'audio']);
    expect(first.chosenLadder).toBe(first.renditions);
    expect(topEncoding(first.renditions)).toBe('copy');
    expect(first.notes).toEqual([{ level: 'info', fields: { ladder: ['source', '480p', '360p', 'audio'], source: '1280x720' }, message: 'ladder chosen; the source passes through' }]);
  });

  it('says so when a slow source passes through with its keyframe interval unknown', () => {
    const slow = decide(source(720, undefined, 1.35));
    expect(topEncoding(slow.renditions)).toBe('copy');
    expect(slow.notes[0]).toEqual({ level: 'warn', message: expect.stringMatching(/slower than real time \(1\.4 s of media.*keyframe interval is not known yet; it passes through/) });
    expect(decide(source(720, undefined, 1.35), slow.renditions).notes[0]?.message).toMatch(/not known yet/);
    expect(decide(source(720, 2)).notes.some((note) => note.level === 'warn')).toBe(false);
  });

  it('keeps the ladder when a later source differs, and says so', () => {
    const ladder = decide(source(720, 2)).renditions;
    const later = decide(source(1080, 2), ladder);
    expect(later.chosenLadder).toBeUndefined();
    expect(names(later.renditions)).toEqual(names(ladder));
    expect(later.notes.map((note) => note.message)).toContain('the source changed since the stream started; keeping its ladder');
  });

  it('encodes the top for the rest of the stream once its keyframes did not fit', () => {
    const ladder = decide(source(720, 2)).renditions;
    const later = decide(source(720, 2), ladder, 'the source went more than 2.45 s without a keyframe');
    expect(topEncoding(later.renditions)).not.toBe('copy');
    expect(later.notes).toContainEqual({ level: 'info', message: 'the top rendition is encoded: the source went more than 2.45 s without a keyframe' });
  });
});
