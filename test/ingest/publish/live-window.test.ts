/**
 * The live window as pure functions: what each rendition's playlist lists, and under which
 * numbers, as renditions cut and store segments at their own pace. No media, no storage: a
 * segment here is its slot, and its media time follows from its place in its session.
 */
import { describe, expect, it } from 'vitest';
import { LiveWindow, type ListedSegment, type SegmentSlot } from '../../../ingest/publish/live-window.ts';

const TIMESCALE = 90_000;
const CLOCK = Date.parse('2026-11-24T12:00:00Z');

type Step =
  | { begin: string }
  /** The rendition cuts `count` segments of the session (what the packager hands over). */
  | { cut: string; session: string; count: number }
  /** The rendition's oldest `count` cut segments settle, stored (or `missing`: dropped, refused). */
  | { store: string; count: number; missing?: boolean }
  /** A crashed sidecar's playlist, taken up (`segments` as "session:index" from `first`), then numbering from it. */
  | { takeUp: string; next: number; first?: number; segments?: string[] }
  | { numberFromTakenUp: true };

/** "SEQ:SESSION" plus " gap" / " disc" for what a player sees of each listed segment. */
function summary(segments: readonly ListedSegment[]): string[] {
  return segments.map((segment) => `${segment.sequence}:${segment.session}${segment.gap ? ' gap' : ''}${segment.discontinuity ? ' disc' : ''}`);
}

/** A segment of a session: 2 s long, its media time from its index, its clock from the session's start. */
function settled(slot: SegmentSlot, missing = false) {
  const sessionStart = CLOCK + slot.session.charCodeAt(0) * 100_000;
  return { slot, time: slot.index * 2 * TIMESCALE, ticks: 2 * TIMESCALE, duration: 2, programDateTime: sessionStart + slot.index * 2000, missing };
}

function play(renditions: string[], steps: Step[], windowSegments = 10, keepRecording = false) {
  const window = new LiveWindow({ renditions, windowSegments, targetSegmentDuration: 2, keepRecording });
  const cut = new Map<string, SegmentSlot[]>(renditions.map((name) => [name, []]));
  const refusals: string[] = [];
  const left: string[] = [];
  for (const step of steps) {
    if ('begin' in step) window.beginSession(step.begin);
    else if ('cut' in step) {
      for (let i = 0; i < step.count; i++) {
        const slot = window.cut(step.cut, step.session);
        if (slot) cut.get(step.cut)!.push(slot);
        else refusals.push(`${step.cut} ${step.session}: no number`);
      }
    } else if ('store' in step) {
      for (const slot of cut.get(step.store)!.splice(0, step.count)) {
        const outcome = window.list(step.store, settled(slot, step.missing));
        if (outcome.listed) left.push(...summary(outcome.left).map((entry) => `${step.store} ${entry}`));
        else refusals.push(`${step.store}: ${outcome.reason}`);
      }
    } else if ('takeUp' in step) {
      const segments = (step.segments ?? []).map((name, i): ListedSegment => {
        const [session, index] = name.split(':') as [string, string];
        const slot = { session, index: Number(index) };
        const { time, ticks, duration, programDateTime } = settled(slot);
        return { sequence: step.first! + i, session, initSession: session, time, ticks, duration, programDateTime, uri: `${session}-${time}.m4s`, initUri: `init-${session}.mp4` };
      });
      window.takeUp(step.takeUp, step.next, step.segments ? { segments, discontinuitySequence: 0, targetDuration: 2 } : undefined);
    } else window.numberFromTakenUp();
  }
  const listed = (name: string, ended = false) => summary(window.playlist(name, ended)?.segments ?? []);
  return { window, listed, refusals, left };
}

describe('live window: what each rendition lists, and under which numbers', () => {
  it.each([
    {
      name: 'renditions at different paces: each lists what it has stored, under the same numbers',
      steps: [{ begin: 'a' }, { cut: 'source', session: 'a', count: 4 }, { cut: '360p', session: 'a', count: 2 }, { store: 'source', count: 4 }, { store: '360p', count: 1 }] as Step[],
      expected: { source: ['0:a', '1:a', '2:a', '3:a'], '360p': ['0:a'], audio: [] },
    },
    {
      name: 'a dropped segment is a gap under its own number, the timeline goes on without a discontinuity',
      steps: [{ begin: 'a' }, { cut: 'source', session: 'a', count: 4 }, { store: 'source', count: 1 }, { store: 'source', count: 2, missing: true }, { store: 'source', count: 1 }] as Step[],
      expected: { source: ['0:a', '1:a gap', '2:a gap', '3:a'], '360p': [], audio: [] },
    },
    {
      name: 'a playlist starts at its first segment with media (a gap needs an init segment before it)',
      steps: [{ begin: 'a' }, { cut: 'audio', session: 'a', count: 3 }, { store: 'audio', count: 1, missing: true }, { store: 'audio', count: 2 }] as Step[],
      expected: { source: [], '360p': [], audio: ['1:a', '2:a'] },
    },
    {
      name: 'a reconnect: the rung that lost its last segment when its encoder died lists a gap there, and the next session under the same numbers',
      steps: [
        { begin: 'a' },
        { cut: 'source', session: 'a', count: 3 },
        { cut: '360p', session: 'a', count: 2 },
        { cut: 'audio', session: 'a', count: 3 },
        { begin: 'b' },
        { cut: 'source', session: 'b', count: 2 },
        { cut: '360p', session: 'b', count: 2 },
        { cut: 'audio', session: 'b', count: 2 },
        { store: 'source', count: 5 },
        { store: 'audio', count: 5 },
        { store: '360p', count: 4 },
      ] as Step[],
      expected: {
        source: ['0:a', '1:a', '2:a', '3:b disc', '4:b'],
        '360p': ['0:a', '1:a', '2:a gap', '3:b disc', '4:b'],
        audio: ['0:a', '1:a', '2:a', '3:b disc', '4:b'],
      },
    },
    {
      name: 'a session a rendition never had (its encoder died at once) is all gaps, with its discontinuity',
      steps: [
        { begin: 'a' },
        { cut: 'source', session: 'a', count: 1 },
        { cut: '360p', session: 'a', count: 1 },
        { begin: 'b' },
        { cut: 'source', session: 'b', count: 2 },
        { begin: 'c' },
        { cut: 'source', session: 'c', count: 1 },
        { cut: '360p', session: 'c', count: 1 },
        { store: 'source', count: 4 },
        { store: '360p', count: 2 },
      ] as Step[],
      expected: { source: ['0:a', '1:b disc', '2:b', '3:c disc'], '360p': ['0:a', '1:b gap disc', '2:b gap', '3:c disc'], audio: [] },
    },
    {
      name: 'after a sidecar crash: each rendition goes on from the furthest one, the one left short fills with gaps',
      steps: [
        { takeUp: 'source', next: 10, first: 7, segments: ['a:7', 'a:8', 'a:9'] },
        { takeUp: 'audio', next: 9, first: 6, segments: ['a:6', 'a:7', 'a:8'] },
        { numberFromTakenUp: true },
        { begin: 'c' },
        { cut: 'source', session: 'c', count: 1 },
        { cut: 'audio', session: 'c', count: 1 },
        { cut: '360p', session: 'c', count: 1 },
        { store: 'source', count: 1 },
        { store: 'audio', count: 1 },
        { store: '360p', count: 1 },
      ] as Step[],
      expected: { source: ['7:a', '8:a', '9:a', '10:c disc'], audio: ['6:a', '7:a', '8:a', '9:a gap', '10:c disc'], '360p': ['10:c'] },
    },
  ])('$name', ({ steps, expected }) => {
    const { listed, refusals } = play(['source', '360p', 'audio'], steps);
    expect(refusals).toEqual([]);
    for (const [name, segments] of Object.entries(expected)) expect(listed(name), name).toEqual(segments);
  });

  it('times a gap like the segment another rendition lists under its number, and names it after the rendition\'s own last segment', () => {
    const { window } = play(['source', '360p'], [
      { begin: 'a' },
      { cut: 'source', session: 'a', count: 3 },
      { cut: '360p', session: 'a', count: 2 },
      { begin: 'b' },
      { cut: 'source', session: 'b', count: 1 },
      { cut: '360p', session: 'b', count: 1 },
      { store: 'source', count: 4 },
      { store: '360p', count: 3 },
    ]);
    const gap = window.playlist('360p', false)!.segments[2]!;
    const other = window.playlist('source', false)!.segments[2]!;
    expect(gap).toMatchObject({ gap: true, filled: true, duration: other.duration, programDateTime: other.programDateTime, initUri: 'init-a.mp4' });
    // Its name follows the rendition's last segment of the session: one it will never store anything under.
    expect(gap.uri).toBe(`a-${4 * TIMESCALE}.m4s`);
  });

  it('numbers the parts of the segment being cut as its segment will be, per rendition', () => {
    const { window } = play(['source', '360p'], [{ begin: 'a' }, { cut: 'source', session: 'a', count: 3 }, { cut: '360p', session: 'a', count: 2 }]);
    expect(window.nextSequence('source', 'a')).toBe(3);
    expect(window.nextSequence('360p', 'a')).toBe(2);
    window.beginSession('b');
    // The next session starts after the longest run of the previous one, whoever lags.
    expect(window.nextSequence('360p', 'b')).toBe(3);
    expect(window.nextSequence('source', 'unknown')).toBeUndefined();
  });

  it('gives no number to a segment of a session that a later session was numbered after (it would shift them)', () => {
    const { refusals, listed } = play(['source', '360p'], [
      { begin: 'a' },
      { cut: 'source', session: 'a', count: 2 },
      { cut: '360p', session: 'a', count: 1 },
      { begin: 'b' },
      { cut: 'source', session: 'b', count: 1 },
      { store: 'source', count: 3 },
      // The rung's late segments of `a`: the second still has its number, a third would not.
      { cut: '360p', session: 'a', count: 2 },
      { store: '360p', count: 2 },
    ]);
    expect(refusals).toEqual(['360p a: no number']);
    expect(listed('360p')).toEqual(['0:a', '1:a']);
  });

  it('refuses a segment whose number the rendition listed already (as a gap)', () => {
    const { refusals, listed } = play(['source'], [
      { begin: 'a' },
      { cut: 'source', session: 'a', count: 1 },
      { begin: 'b' },
      { cut: 'source', session: 'b', count: 1 },
      { store: 'source', count: 2 },
    ]);
    expect(refusals).toEqual([]);
    expect(listed('source')).toEqual(['0:a', '1:b disc']);
  });

  it('slides the window: what leaves is handed back (filled gaps flagged), a discontinuity leaving is counted', () => {
    const { window, left } = play(['source', '360p'], [
      { begin: 'a' },
      { cut: 'source', session: 'a', count: 2 },
      { cut: '360p', session: 'a', count: 1 },
      { begin: 'b' },
      { cut: 'source', session: 'b', count: 3 },
      { cut: '360p', session: 'b', count: 3 },
      { store: 'source', count: 5 },
      { store: '360p', count: 4 },
    ], 2);
    expect(left).toEqual(['source 0:a', 'source 1:a', 'source 2:b disc', '360p 0:a', '360p 1:a gap', '360p 2:b disc']);
    for (const name of ['source', '360p']) expect(window.playlist(name, false)).toMatchObject({ mediaSequence: 3, discontinuitySequence: 1 });
  });

  it('at the end of the stream: the recording (retention all) before the window, from its own discontinuity sequence', () => {
    const { window } = play(['source'], [{ begin: 'a' }, { cut: 'source', session: 'a', count: 2 }, { begin: 'b' }, { cut: 'source', session: 'b', count: 2 }, { store: 'source', count: 4 }], 2, true);
    expect(summary(window.playlist('source', false)!.segments)).toEqual(['2:b disc', '3:b']);
    const ended = window.playlist('source', true)!;
    expect(summary(ended.segments)).toEqual(['0:a', '1:a', '2:b disc', '3:b']);
    expect(ended).toMatchObject({ mediaSequence: 0, discontinuitySequence: 0, ended: true });
  });

  it.each([
    { name: 'a live rendition with nothing listed has no playlist yet', ended: false, expected: undefined },
    { name: 'an ended one with nothing listed is an empty ENDLIST playlist numbered on', ended: true, expected: { mediaSequence: 5, segments: [], ended: true } },
  ])('$name', ({ ended, expected }) => {
    const { window } = play(['source'], [{ takeUp: 'source', next: 5 }, { numberFromTakenUp: true }]);
    if (expected) expect(window.playlist('source', ended)).toMatchObject(expected);
    else expect(window.playlist('source', ended)).toBeUndefined();
  });

  it('keeps DASH at the common window, with media only: every representation ends at the same number', () => {
    const steps: Step[] = [
      { begin: 'a' },
      { cut: 'source', session: 'a', count: 4 },
      { cut: '360p', session: 'a', count: 2 },
      { store: 'source', count: 1 },
      { store: 'source', count: 1, missing: true },
      { store: 'source', count: 2 },
      { store: '360p', count: 2 },
    ];
    const { window } = play(['source', '360p'], steps);
    expect(window.dashSegments('source', false).map((segment) => segment.sequence)).toEqual([0]);
    expect(window.dashSegments('360p', false).map((segment) => segment.sequence)).toEqual([0, 1]);
    expect(window.dashSegments('source', true).map((segment) => segment.sequence)).toEqual([0, 2, 3]);
  });
});
