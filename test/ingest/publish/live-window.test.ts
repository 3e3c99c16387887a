/**
 * The live window as pure functions: what each rendition's playlist lists, and under which
 * numbers, as renditions cut and store segments at their own pace. No media, no storage: a
 * segment here is its cell on its session's 2 s grid (its media time), and its clock follows.
 */
import { describe, expect, it } from 'vitest';
import { LiveWindow, type ListedSegment, type SegmentSlot } from '../../../ingest/publish/live-window.ts';

const TIMESCALE = 90_000;
const CLOCK = Date.parse('2026-11-24T12:00:00Z');

type Step =
  | { begin: string }
  /** The rendition cuts `count` 2 s segments of the session, on the grid cells after its last one (or from cell `from`: it missed those before). */
  | { cut: string; session: string; count: number; from?: number }
  /** The rendition's oldest `count` cut segments settle, stored (or `missing`: dropped, refused). */
  | { store: string; count: number; missing?: boolean }
  /** A crashed sidecar's playlist, taken up (`segments` as "session:cell" from `first`), then numbering from it. */
  | { takeUp: string; next: number; first?: number; segments?: string[] }
  | { numberFromTakenUp: true };

/** A segment cut on cell `cell` of its session's grid. */
interface Cut {
  slot: SegmentSlot;
  cell: number;
}

/** "SEQ:SESSION" plus " gap" / " disc" for what a player sees of each listed segment. */
function summary(segments: readonly ListedSegment[]): string[] {
  return segments.map((segment) => `${segment.sequence}:${segment.session}${segment.gap ? ' gap' : ''}${segment.discontinuity ? ' disc' : ''}`);
}

/** The wall clock at cell `cell` of a session (each session starts at its own clock). */
function clockAt(session: string, cell: number): number {
  return CLOCK + session.charCodeAt(0) * 100_000 + cell * 2000;
}

/** A segment of a session: 2 s long, its media time from its grid cell, its clock from the session's start. */
function settled({ slot, cell }: Cut, missing = false) {
  return { slot, time: cell * 2 * TIMESCALE, ticks: 2 * TIMESCALE, duration: 2, programDateTime: clockAt(slot.session, cell), missing };
}

function play(renditions: string[], steps: Step[], windowSegments = 10, keepRecording = false, partsAnnounced = false) {
  const window = new LiveWindow({ renditions, windowSegments, targetSegmentDuration: 2, keepRecording, partsAnnounced });
  const cut = new Map<string, Cut[]>(renditions.map((name) => [name, []]));
  /** Per rendition and session, the next grid cell it cuts. */
  const cells = new Map<string, number>();
  const refusals: string[] = [];
  const left: string[] = [];
  for (const step of steps) {
    if ('begin' in step) window.beginSession(step.begin);
    else if ('cut' in step) {
      const key = `${step.cut}/${step.session}`;
      let cell = step.from ?? cells.get(key) ?? 0;
      for (let i = 0; i < step.count; i++, cell++) {
        const slot = window.cut(step.cut, { session: step.session, start: cell * 2, duration: 2, programDateTime: clockAt(step.session, cell) });
        cut.get(step.cut)!.push({ slot, cell });
      }
      cells.set(key, cell);
    } else if ('store' in step) {
      for (const segment of cut.get(step.store)!.splice(0, step.count)) {
        const outcome = window.list(step.store, settled(segment, step.missing));
        if (outcome.listed) left.push(...summary(outcome.left).map((entry) => `${step.store} ${entry}`));
        else refusals.push(`${step.store}: ${outcome.reason}`);
      }
    } else if ('takeUp' in step) {
      const segments = (step.segments ?? []).map((name, i): ListedSegment => {
        const [session, cell] = name.split(':') as [string, string];
        const { time, ticks, duration, programDateTime } = settled({ slot: { session, sequence: step.first! + i }, cell: Number(cell) });
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
      name: 'a reconnect: a new session after a discontinuity, numbering on; a rung that lost its last segment when its encoder died goes on at the others\' number, the one it missed a gap',
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
      name: 'a gap in a session after a discontinuity keeps the init segment before it, and the discontinuity',
      steps: [
        { begin: 'a' },
        { cut: 'source', session: 'a', count: 1 },
        { begin: 'b' },
        { cut: 'source', session: 'b', count: 2 },
        { store: 'source', count: 1 },
        { store: 'source', count: 1, missing: true },
        { store: 'source', count: 1 },
      ] as Step[],
      expected: { source: ['0:a', '1:b gap disc', '2:b'], '360p': [], audio: [] },
    },
    {
      name: 'after a sidecar crash: every rendition goes on at the furthest number; one that was behind lists what it missed as a gap',
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

  it('after a crash with parts announced: the segment the dead sidecar was cutting keeps its number as a gap under its parts\' name; an ended playlist stops at its media', () => {
    const steps: Step[] = [
      { takeUp: 'source', next: 10, first: 7, segments: ['a:7', 'a:8', 'a:9'] },
      { numberFromTakenUp: true },
      { begin: 'c' },
      { cut: 'source', session: 'c', count: 1 },
      { store: 'source', count: 1 },
    ];
    const { listed, window } = play(['source'], steps, 10, false, true);
    expect(listed('source')).toEqual(['7:a', '8:a', '9:a', '10:a gap', '11:c disc']);
    const gap = window.playlist('source', false)!.segments[3]!;
    // Parts of `a`'s next segment were named after its media time: the end of the last one stored.
    expect(gap).toMatchObject({ uri: `a-${10 * 2 * TIMESCALE}.m4s`, duration: 0.001, initUri: 'init-a.mp4' });
    const ended = play(['source'], steps.slice(0, 2), 10, false, true);
    expect(ended.listed('source', true)).toEqual(['7:a', '8:a', '9:a']);
    // Without parts nothing was announced past the stored playlist: no gap.
    expect(play(['source'], steps, 10, false, false).listed('source')).toEqual(['7:a', '8:a', '9:a', '10:c disc']);
  });

  it('lists a missing segment as a gap under its own name, duration and clock, with the init segment before it', () => {
    const { window } = play(['source'], [{ begin: 'a' }, { cut: 'source', session: 'a', count: 3 }, { store: 'source', count: 1 }, { store: 'source', count: 1, missing: true }, { store: 'source', count: 1 }]);
    const [, gap] = window.playlist('source', false)!.segments;
    expect(gap).toMatchObject({ sequence: 1, gap: true, uri: `a-${2 * TIMESCALE}.m4s`, duration: 2, initUri: 'init-a.mp4', programDateTime: clockAt('a', 1) });
  });

  it('numbers the parts of the segment being cut as its segment will be: one more per segment within a session, whatever its media time', () => {
    const { window } = play(['source', '360p'], [{ begin: 'a' }, { cut: 'source', session: 'a', count: 3 }, { cut: '360p', session: 'a', count: 2 }]);
    expect(window.sequenceAt('source', 'a', 6)).toBe(3);
    expect(window.sequenceAt('360p', 'a', 4)).toBe(2);
    // A keyframe a millisecond either side of a cell's edge (a source whose keyframes sit there): no number skipped.
    expect(window.sequenceAt('360p', 'a', 5.901)).toBe(2);
    window.beginSession('b');
    // A new session starts after the furthest any rendition cut.
    expect(window.sequenceAt('360p', 'b', 0)).toBe(3);
    expect(window.sequenceAt('source', 'b', 0)).toBe(3);
    expect(() => window.sequenceAt('source', 'unknown', 0)).toThrow(/never begun/);
  });

  it('refuses a segment under a number its playlist has passed; a later one first lists the skipped number as a gap', () => {
    const window = new LiveWindow({ renditions: ['source'], windowSegments: 5, targetSegmentDuration: 2, keepRecording: false });
    window.beginSession('a');
    const [first, second, third] = [0, 1, 2].map((cell) => ({ slot: window.cut('source', { session: 'a', start: cell * 2, duration: 2, programDateTime: clockAt('a', cell) }), cell }));
    expect(window.list('source', settled(first!)).listed).toBe(true);
    expect(window.list('source', settled(third!)).listed).toBe(true);
    expect(window.list('source', settled(second!))).toEqual({ listed: false, reason: 'number 1 is not the next one (3)' });
    expect(summary(window.playlist('source', false)!.segments)).toEqual(['0:a', '1:a gap', '2:a']);
  });

  describe('a rung whose encoder stalls for two segments while the source goes on', () => {
    it('the run restarted for it: every rendition goes on at one number after the discontinuity', () => {
      const { listed } = play(['source', '360p', 'audio'], [
        { begin: 'a' },
        { cut: 'source', session: 'a', count: 5 },
        { cut: 'audio', session: 'a', count: 5 },
        { cut: '360p', session: 'a', count: 3 },
        { begin: 'b' },
        { cut: 'source', session: 'b', count: 2 },
        { cut: 'audio', session: 'b', count: 2 },
        { cut: '360p', session: 'b', count: 2 },
        { store: 'source', count: 7 },
        { store: 'audio', count: 7 },
        { store: '360p', count: 5 },
      ]);
      expect(listed('source')).toEqual(['0:a', '1:a', '2:a', '3:a', '4:a', '5:b disc', '6:b']);
      expect(listed('audio')).toEqual(listed('source'));
      expect(listed('360p')).toEqual(['0:a', '1:a', '2:a', '3:a gap', '4:a gap', '5:b disc', '6:b']);
    });
  });

  it('a segment that ran past a grid line (a long GOP) is followed by the next number: no gap, no hole', () => {
    const window = new LiveWindow({ renditions: ['source'], windowSegments: 5, targetSegmentDuration: 2, keepRecording: false });
    window.beginSession('a');
    const long = { slot: window.cut('source', { session: 'a', start: 0, duration: 4, programDateTime: CLOCK }), cell: 0 };
    const next = { slot: window.cut('source', { session: 'a', start: 4, duration: 2, programDateTime: CLOCK + 4000 }), cell: 2 };
    expect([long.slot.sequence, next.slot.sequence]).toEqual([0, 1]);
    window.list('source', { ...settled(long), ticks: 4 * TIMESCALE, duration: 4 });
    window.list('source', settled(next));
    expect(summary(window.playlist('source', false)!.segments)).toEqual(['0:a', '1:a']);
  });


  it('slides the window: what leaves is handed back, a discontinuity leaving is counted', () => {
    const { window, left } = play(['source', '360p'], [
      { begin: 'a' },
      { cut: 'source', session: 'a', count: 2 },
      { cut: '360p', session: 'a', count: 2 },
      { begin: 'b' },
      { cut: 'source', session: 'b', count: 3 },
      { cut: '360p', session: 'b', count: 3 },
      { store: 'source', count: 5 },
      { store: '360p', count: 1 },
      { store: '360p', count: 1, missing: true },
      { store: '360p', count: 3 },
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
