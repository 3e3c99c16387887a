/**
 * Segments closed from their parts (issue 22): the live state lists segment N whole the moment
 * the next segment's first part shows it complete, before the sidecar's stored playlist lists
 * it; serves its bytes from the parts; and reconciles with the stored playlist when it comes,
 * agreeing or not, never going back in media sequence numbers.
 */
import { describe, expect, it } from 'vitest';
import { LiveStreamState, type IncomingPart, type PlaylistAnswer } from '../../../edge/low-latency/live-stream-state.ts';
import { MAX_CLOSED_AHEAD } from '../../../edge/low-latency/rendition-timeline.ts';
import { segmentClock } from '../../../shared/segment-clock.ts';
import { parseM3u8 } from '../../helpers/m3u8.ts';

const FACTS = { targetDuration: 2, partTarget: 0.333 };
const EPOCH = Date.UTC(2026, 0, 1);

interface Listed {
  mediaSequence: number;
  segments: Array<{ uri: string; duration: number; parts?: Array<{ uri: string }>; dateTimeString?: string }>;
  preloadSegment?: { parts?: Array<{ uri: string }> };
}

/** Stored playlist of segments `0..count-1` (2 s, dated) of session `sessiona`; `uris` overrides names by number, `gaps` marks EXT-X-GAP. */
function stored(count: number, options: { uris?: Record<number, string>; gaps?: number[] } = {}): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:2', '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-MAP:URI="init-sessiona.mp4"'];
  for (let msn = 0; msn < count; msn++) {
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(EPOCH + msn * 2000).toISOString()}`);
    if (options.gaps?.includes(msn)) lines.push('#EXT-X-GAP');
    lines.push('#EXTINF:2.000,', options.uris?.[msn] ?? `sessiona-${msn * 100}.m4s`);
  }
  return `${lines.join('\n')}\n`;
}

/** Part `index` of segment `msn`; `last`: the segment's last part (its next is the next segment's first). */
function part(msn: number, index: number, options: { session?: string; last?: boolean; duration?: number } = {}): IncomingPart {
  const session = options.session ?? 'sessiona';
  return {
    msn,
    index,
    session,
    segmentTime: msn * 100,
    file: `${session}-${msn * 100}.p${index}.m4s`,
    next: options.last ? `${session}-${(msn + 1) * 100}.p0.m4s` : `${session}-${msn * 100}.p${index + 1}.m4s`,
    duration: options.duration ?? 0.33333,
    independent: index === 0,
    partTarget: 0.333,
    bytes: new Uint8Array([msn, index, 0xee]),
    contentType: 'video/mp4',
  };
}

/** All six parts of segment `msn`, the last naming the next segment's first. */
function segmentParts(state: LiveStreamState, msn: number, options: { session?: string; skip?: number[]; duration?: number } = {}): void {
  for (let index = 0; index < 6; index++) {
    if (!options.skip?.includes(index)) state.acceptPart('v', part(msn, index, { ...options, last: index === 5 }));
  }
}

async function listed(state: LiveStreamState, block?: { msn: number; part?: number }): Promise<Listed & { text: string }> {
  const answer: PlaylistAnswer = await state.playlist({ rendition: 'v', skip: false, facts: FACTS, block });
  if (answer.kind !== 'playlist') throw new Error(`expected a playlist, got ${JSON.stringify(answer)}`);
  return { ...(parseM3u8(answer.text) as unknown as Listed), text: answer.text };
}

const uris = (playlist: Listed) => playlist.segments.map((segment) => segment.uri);
const lastMsn = (playlist: Listed) => playlist.mediaSequence + playlist.segments.length - 1;

async function pending(promise: Promise<unknown>, ms = 30): Promise<boolean> {
  const marker = Symbol('pending');
  return (await Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve(marker), ms))])) === marker;
}

describe('a segment closed from its parts', () => {
  it('is listed whole the moment the next segment\'s first part arrives, before any stored playlist lists it', async () => {
    const state = new LiveStreamState();
    state.acceptPlaylist('v', stored(3));
    segmentParts(state, 3);
    // Six parts, the last naming segment 4's first: not listed whole yet (a keyframe must start 4).
    expect(uris(await listed(state))).toEqual(['sessiona-0.m4s', 'sessiona-100.m4s', 'sessiona-200.m4s']);
    state.acceptPart('v', part(4, 0));
    // As a low-latency client sees it, blocking for that part (a plain reload shows the segment's end until a second part: below).
    const playlist = await listed(state, { msn: 4, part: 0 });
    expect(uris(playlist)).toEqual(['sessiona-0.m4s', 'sessiona-100.m4s', 'sessiona-200.m4s', 'sessiona-300.m4s']);
    const closed = playlist.segments[3]!;
    expect(closed.duration).toBeCloseTo(6 * 0.33333, 5);
    expect(closed.parts!.map((p) => p.uri)).toEqual([0, 1, 2, 3, 4, 5].map((index) => `sessiona-300.p${index}.m4s`));
    // Dated from the last stored segment's date and duration.
    expect(closed.dateTimeString).toBe(new Date(EPOCH + 6000).toISOString());
    expect(playlist.preloadSegment!.parts!.map((p) => p.uri)).toEqual(['sessiona-400.p0.m4s']);
    expect(playlist.text).toContain('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="sessiona-400.p1.m4s"');
  });

  it("answers a blocking reload for a segment's last part as the playlist stood at the segment's end while the next segment has barely begun (hls.js with lowLatencyMode off then waits a reload interval, not 1.6 s and a timeout)", async () => {
    const state = new LiveStreamState();
    state.acceptPlaylist('v', stored(3));
    segmentParts(state, 3);
    state.acceptPart('v', part(4, 0));
    const atEnd = await listed(state, { msn: 3, part: 5 });
    expect(uris(atEnd)).toEqual(['sessiona-0.m4s', 'sessiona-100.m4s', 'sessiona-200.m4s', 'sessiona-300.m4s']);
    expect(atEnd.preloadSegment?.parts ?? []).toEqual([]);
    expect(atEnd.text).toContain('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="sessiona-400.p0.m4s"');
    // A block on that part sees it (a plain reload too once the segment has more than one part: below).
    expect((await listed(state, { msn: 4, part: 0 })).preloadSegment!.parts!.map((p) => p.uri)).toEqual(['sessiona-400.p0.m4s']);
    // Half a target duration into the next segment, its parts are listed to everyone: its last part is under 1.6 s away.
    for (let index = 1; index < 3; index++) state.acceptPart('v', part(4, index));
    expect((await listed(state, { msn: 3, part: 5 })).preloadSegment?.parts ?? []).toHaveLength(0);
    state.acceptPart('v', part(4, 3));
    expect((await listed(state, { msn: 3, part: 5 })).preloadSegment!.parts!.map((p) => p.uri)).toEqual([0, 1, 2, 3].map((index) => `sessiona-400.p${index}.m4s`));
  });

  it("answers a plain reload as the playlist stood at the segment's end while the next segment has only its first part (hls.js with lowLatencyMode off would block 1.67 s for its last part and time out at 1.6 s)", async () => {
    const state = new LiveStreamState();
    state.acceptPlaylist('v', stored(3));
    segmentParts(state, 3);
    state.acceptPart('v', part(4, 0));
    const plain = await listed(state);
    expect(uris(plain)).toEqual(['sessiona-0.m4s', 'sessiona-100.m4s', 'sessiona-200.m4s', 'sessiona-300.m4s']);
    expect(plain.preloadSegment?.parts ?? []).toEqual([]);
    // Its hint names the part that has come: a low-latency client asking for it has it at once.
    expect(plain.text).toContain('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="sessiona-400.p0.m4s"');
    expect(plain.text).not.toMatch(/#EXT-X-PART:.*sessiona-400/);
    // The same plain reload as a delta update: the same view.
    const delta = await state.playlist({ rendition: 'v', skip: true, facts: FACTS });
    expect(delta.kind === 'playlist' && delta.text).not.toMatch(/#EXT-X-PART:.*sessiona-400/);
    // The second part listed: the last is 1.33 s away, under the client's timeout; every plain reload lists both.
    state.acceptPart('v', part(4, 1));
    expect((await listed(state)).preloadSegment!.parts!.map((p) => p.uri)).toEqual(['sessiona-400.p0.m4s', 'sessiona-400.p1.m4s']);
  });

  it("lists the next segment's first part to a plain reload when the parts are long enough that its last part is within a client's timeout", async () => {
    const state = new LiveStreamState();
    state.acceptPlaylist('v', stored(3));
    const longPart = (msn: number, index: number, last = false): IncomingPart => ({ ...part(msn, index, { last, duration: 1 }), partTarget: 1, next: last ? `sessiona-${(msn + 1) * 100}.p0.m4s` : `sessiona-${msn * 100}.p${index + 1}.m4s` });
    state.acceptPart('v', longPart(3, 0));
    state.acceptPart('v', longPart(3, 1, true));
    state.acceptPart('v', longPart(4, 0));
    // 1 s parts: the timeout is three part targets (3 s), the last part 1 s away.
    const plain = await listed(state);
    expect(plain.preloadSegment!.parts!.map((p) => p.uri)).toEqual(['sessiona-400.p0.m4s']);
  });

  it('releases a blocking reload waiting for the segment (_HLS_msn without a part) when it is closed', async () => {
    const state = new LiveStreamState();
    state.acceptPlaylist('v', stored(3));
    const whole = listed(state, { msn: 3 });
    segmentParts(state, 3);
    expect(await pending(whole)).toBe(true);
    state.acceptPart('v', part(4, 0));
    expect(uris(await whole)).toContain('sessiona-300.m4s');
  });

  it('serves its bytes (its parts end to end) until storage has it; nothing for a segment not closed', async () => {
    const state = new LiveStreamState();
    state.acceptPlaylist('v', stored(3));
    segmentParts(state, 3);
    expect(state.segment('v', 'sessiona-300.m4s')).toEqual({ kind: 'missing' });
    state.acceptPart('v', part(4, 0));
    const expected = new Uint8Array([0, 1, 2, 3, 4, 5].flatMap((index) => [3, index, 0xee]));
    expect(state.segment('v', 'sessiona-300.m4s')).toEqual({ kind: 'segment', bytes: expected, contentType: 'video/mp4' });
    expect(state.segment('v', 'sessiona-400.m4s')).toEqual({ kind: 'missing' });
    expect(state.segment('a', 'sessiona-300.m4s')).toEqual({ kind: 'missing' });
  });

  // [what, parts of segment 3 and what follows, listed whole after segment 2]
  const notClosed: Array<[string, (state: LiveStreamState) => void]> = [
    ['the next segment\'s first part has not come', (state) => segmentParts(state, 3)],
    ['a part of it never came (the sidecar skipped it)', (state) => {
      segmentParts(state, 3, { skip: [2] });
      state.acceptPart('v', part(4, 0));
    }],
    ['its last part never came (the one before names a part that is missing)', (state) => {
      segmentParts(state, 3, { skip: [5] });
      state.acceptPart('v', part(4, 0));
    }],
    ['the next part is of a new session (its discontinuity comes from the stored playlist)', (state) => {
      segmentParts(state, 3);
      state.acceptPart('v', part(4, 0, { session: 'sessionb' }));
    }],
    ['it is of a new session itself', (state) => {
      segmentParts(state, 3, { session: 'sessionb' });
      state.acceptPart('v', part(4, 0, { session: 'sessionb' }));
    }],
    ['it is longer than the target duration (2.5 s of parts)', (state) => {
      segmentParts(state, 3, { duration: 0.41667 });
      state.acceptPart('v', part(4, 0));
    }],
  ];

  it.each(notClosed)('is not closed when %s', async (_what, feed) => {
    const state = new LiveStreamState();
    state.acceptPlaylist('v', stored(3));
    feed(state);
    expect(uris(await listed(state))).toEqual(['sessiona-0.m4s', 'sessiona-100.m4s', 'sessiona-200.m4s']);
    expect(state.segment('v', 'sessiona-300.m4s')).toEqual({ kind: 'missing' });
  });

  it('is closed when the next segment\'s parts came without its first (that part was skipped)', async () => {
    const state = new LiveStreamState();
    state.acceptPlaylist('v', stored(3));
    segmentParts(state, 3);
    state.acceptPart('v', part(4, 1));
    const playlist = await listed(state);
    expect(uris(playlist).at(-1)).toBe('sessiona-300.m4s');
    // No hint for the skipped part, no parts listed for the broken segment 4.
    expect(playlist.text).not.toContain('PRELOAD-HINT');
    expect(playlist.preloadSegment).toBeUndefined();
  });

  it(`closes at most ${MAX_CLOSED_AHEAD} segments ahead of the stored playlist (its writes stopped: viewers wait for storage)`, async () => {
    const state = new LiveStreamState();
    state.acceptPlaylist('v', stored(3));
    for (let msn = 3; msn < 9; msn++) segmentParts(state, msn);
    state.acceptPart('v', part(9, 0));
    expect(uris(await listed(state)).slice(3)).toEqual(['sessiona-300.m4s', 'sessiona-400.m4s', 'sessiona-500.m4s']);
    state.acceptPlaylist('v', stored(5));
    expect(uris(await listed(state)).slice(3)).toEqual(['sessiona-300.m4s', 'sessiona-400.m4s', 'sessiona-500.m4s', 'sessiona-600.m4s', 'sessiona-700.m4s']);
  });
});

describe('the stored playlist, when it comes, against what was closed from parts', () => {
  // Segments 3 and 4 closed from parts, segment 5's first two parts listed; then the stored playlist arrives.
  async function closedThreeAndFour(): Promise<LiveStreamState> {
    const state = new LiveStreamState();
    state.acceptPlaylist('v', stored(3));
    segmentParts(state, 3);
    segmentParts(state, 4);
    state.acceptPart('v', part(5, 0));
    state.acceptPart('v', part(5, 1));
    expect(uris(await listed(state)).slice(3)).toEqual(['sessiona-300.m4s', 'sessiona-400.m4s']);
    return state;
  }

  // [what, stored playlist, segments listed after segment 2, segment 5's parts listed, segment 3 EXT-X-GAP]
  const rows: Array<[string, string, string[], boolean, boolean]> = [
    ['agrees, one segment behind: its entry replaces the closed one, the other stays', stored(4), ['sessiona-300.m4s', 'sessiona-400.m4s'], true, false],
    ['agrees, caught up', stored(5), ['sessiona-300.m4s', 'sessiona-400.m4s'], true, false],
    ['lists segment 3 as a gap (its upload failed): the gap is listed, the parts after it stay', stored(4, { gaps: [3] }), ['sessiona-300.m4s', 'sessiona-400.m4s'], true, true],
    ['caught up and names another segment 4: the stored one wins, the parts numbered after it are not listed', stored(5, { uris: { 4: 'sessiona-450.m4s' } }), ['sessiona-300.m4s', 'sessiona-450.m4s'], false, false],
    ['behind and names another segment 3: the closed segment 4 stays listed (no going back) and nothing more is closed', stored(4, { uris: { 3: 'sessiona-350.m4s' } }), ['sessiona-350.m4s', 'sessiona-400.m4s'], false, false],
  ];

  it.each(rows)('%s', async (_what, text, after, partOfFive, gapAtThree) => {
    const state = await closedThreeAndFour();
    state.acceptPlaylist('v', text);
    const playlist = await listed(state);
    expect(uris(playlist).slice(3)).toEqual(after);
    expect((playlist.preloadSegment?.parts ?? []).map((p) => p.uri)).toEqual(partOfFive ? ['sessiona-500.p0.m4s', 'sessiona-500.p1.m4s'] : []);
    // m3u8-parser does not read EXT-X-GAP: segment 3's own tags, between segment 2's URI and its own.
    const tagsOfThree = playlist.text.slice(playlist.text.indexOf('sessiona-200.m4s\n'), playlist.text.indexOf(`${after[0]}\n`));
    expect(tagsOfThree.includes('#EXT-X-GAP\n')).toBe(gapAtThree);
    // A gap has no media: its parts are not offered.
    if (gapAtThree) expect(playlist.segments[3]!.parts).toBeUndefined();
    // Every segment listed once.
    expect(new Set(uris(playlist)).size).toBe(playlist.segments.length);
  });

  it('after a disagreement, closes from parts again once the stored playlist has passed everything closed', async () => {
    const state = await closedThreeAndFour();
    state.acceptPlaylist('v', stored(4, { uris: { 3: 'sessiona-350.m4s' } }));
    segmentParts(state, 5);
    state.acceptPart('v', part(6, 0));
    expect(uris(await listed(state)).slice(3)).toEqual(['sessiona-350.m4s', 'sessiona-400.m4s']);
    state.acceptPlaylist('v', stored(5, { uris: { 3: 'sessiona-350.m4s' } }));
    expect(uris(await listed(state)).slice(3)).toEqual(['sessiona-350.m4s', 'sessiona-400.m4s', 'sessiona-500.m4s']);
  });

  it('never hands out a playlist that goes back in media sequence number, whatever order parts and stored playlists come in', async () => {
    // Stored playlists trail the parts by 0 to 2 segments, one disagrees, one is overtaken by an older write.
    const events: Array<['part', number, number] | ['stored', string]> = [];
    for (let msn = 3; msn < 12; msn++) {
      for (let index = 0; index < 6; index++) events.push(['part', msn, index]);
      if (msn === 5) events.push(['stored', stored(4)]);
      if (msn === 7) events.push(['stored', stored(6, { uris: { 5: 'sessiona-550.m4s' } })]);
      if (msn === 8) events.push(['stored', stored(5)]);
      if (msn === 10) events.push(['stored', stored(9)]);
    }
    const state = new LiveStreamState();
    state.acceptPlaylist('v', stored(3));
    let highest = 2;
    for (const event of events) {
      if (event[0] === 'part') state.acceptPart('v', part(event[1], event[2], { last: event[2] === 5 }));
      else state.acceptPlaylist('v', event[1]);
      const playlist = await listed(state);
      expect(lastMsn(playlist), JSON.stringify(event)).toBeGreaterThanOrEqual(highest);
      highest = lastMsn(playlist);
    }
    expect(highest).toBeGreaterThanOrEqual(10);
  });
});

describe('a segment closed from its parts, timed as the sidecar will store it', () => {
  // 48 kHz AAC as a real stream has it: 1024-sample frames, segments not whole milliseconds long,
  // named by their media time in ticks, the clock at media time zero a fraction of a millisecond.
  const RATE = 48_000;
  const FRAME = 1024;
  const ANCHOR = EPOCH + 0.6;
  const starts = [97_440, 97_440 + 94 * FRAME, 97_440 + 188 * FRAME];

  function audioPart(msn: number, index: number, frames: number, last: boolean): IncomingPart {
    return {
      msn,
      index,
      session: 'sessiona',
      segmentTime: starts[msn]!,
      file: `sessiona-${starts[msn]}.p${index}.m4s`,
      next: last ? `sessiona-${starts[msn + 1]}.p0.m4s` : `sessiona-${starts[msn]}.p${index + 1}.m4s`,
      duration: (frames * FRAME) / RATE,
      independent: true,
      partTarget: 0.333,
      bytes: new Uint8Array([msn, index]),
      contentType: 'audio/mp4',
    };
  }

  it("lists the EXTINF and date the sidecar's playlist will have: its date plus its EXTINF is the next segment's date, in whole milliseconds", async () => {
    const first = segmentClock(ANCHOR, starts[0]!, 94 * FRAME, RATE);
    const state = new LiveStreamState();
    state.acceptPlaylist(
      'v',
      ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:2', '#EXT-X-MEDIA-SEQUENCE:0', '#EXT-X-MAP:URI="init-sessiona.mp4"', `#EXT-X-PROGRAM-DATE-TIME:${new Date(first.programDateTime).toISOString()}`, `#EXTINF:${first.duration.toFixed(3)},`, `sessiona-${starts[0]}.m4s`, ''].join('\n'),
    );
    // Segment 1: six parts of 14 frames and one of 10 (2.00533 s), the last naming segment 2's first.
    for (let index = 0; index < 7; index++) state.acceptPart('v', audioPart(1, index, index < 6 ? 14 : 10, index === 6));
    state.acceptPart('v', audioPart(2, 0, 14, false));
    const playlist = await listed(state, { msn: 2, part: 0 });
    const closed = playlist.segments[1]!;
    expect(closed.uri).toBe(`sessiona-${starts[1]}.m4s`);
    const stored = segmentClock(ANCHOR, starts[1]!, 94 * FRAME, RATE);
    // Not the parts' 2.00533: the 2.006 that the stored playlist will list, and the date it will give.
    expect(closed.duration).toBe(stored.duration);
    expect(Date.parse(closed.dateTimeString!)).toBe(stored.programDateTime);
    expect(stored.programDateTime + stored.duration * 1000).toBe(segmentClock(ANCHOR, starts[2]!, 94 * FRAME, RATE).programDateTime);
  });

  it('lists the parts\' sum where their durations do not tell the timescale exactly (rounded to 10 us, as the write API sends them)', async () => {
    const state = new LiveStreamState();
    state.acceptPlaylist('v', stored(1, { uris: { 0: `sessiona-${starts[0]}.m4s` } }));
    for (let index = 0; index < 7; index++) {
      const part = audioPart(1, index, index < 6 ? 14 : 10, index === 6);
      state.acceptPart('v', { ...part, duration: Number(part.duration.toFixed(5)) });
    }
    state.acceptPart('v', audioPart(2, 0, 14, false));
    const closed = (await listed(state, { msn: 2, part: 0 })).segments[1]!;
    expect(closed.duration).toBeCloseTo(6 * 0.29867 + 0.21333, 4);
  });
});
