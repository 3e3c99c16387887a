import { describe, expect, it } from 'vitest';
import { LiveStreamState, type IncomingPart, type PlaylistAnswer } from '../../../edge/low-latency/live-stream-state.ts';
import { rewriteMediaPlaylist } from '../../../edge/manifest/playback-rewrite.ts';
import { partWillNotCome, UNKNOWN_PART } from '../../../edge/low-latency/part-decision.ts';

function playlist(count: number, session = 'sessiona'): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:2', '#EXT-X-MEDIA-SEQUENCE:0', `#EXT-X-MAP:URI="init-${session}.mp4"`];
  for (let msn = 0; msn < count; msn++) lines.push('#EXTINF:2.00000,', `${session}-${msn * 100}.m4s`);
  return `${lines.join('\n')}\n`;
}

function part(msn: number, index: number, options: { session?: string; next?: string; bytes?: number[] } = {}): IncomingPart {
  const session = options.session ?? 'sessiona';
  return {
    msn,
    index,
    session,
    segmentTime: msn * 100,
    file: `${session}-${msn * 100}.p${index}.m4s`,
    next: options.next ?? `${session}-${msn * 100}.p${index + 1}.m4s`,
    duration: 0.3,
    independent: index === 0,
    partTarget: 0.333,
    bytes: new Uint8Array(options.bytes ?? [msn, index]),
    contentType: 'video/mp4',
  };
}

describe('live stream state', () => {
  it('answers a held request with a timeout after the hold limit, never with an older playlist', async () => {
    const state = new LiveStreamState({ holdMs: () => 150 });
    state.acceptPlaylist('v', playlist(3));
    const started = Date.now();
    expect(await state.playlist({ rendition: 'v', block: { msn: 3, part: 0 }, skip: false })).toEqual({ kind: 'timeout' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(state.held).toBe(0);
  });

  it('tells whoever waits for a hinted part that never came (the segment ended sooner) at once', async () => {
    const state = new LiveStreamState();
    state.acceptPlaylist('v', playlist(3));
    state.acceptPart('v', part(3, 0));
    const hinted = state.part('v', 'sessiona-300.p1.m4s');
    // The encoder started the next segment instead: this part names another segment.
    state.acceptPart('v', part(3, 1, { next: 'sessiona-400.p0.m4s' }));
    expect(await hinted).toMatchObject({ kind: 'part' });
    const wrongGuess = state.part('v', 'sessiona-400.p0.m4s');
    state.acceptPart('v', part(3, 2));
    expect(await wrongGuess).toEqual({ kind: 'missing', reason: partWillNotCome('sessiona-400.p0.m4s', 'sessiona-300.p2.m4s came instead (its segment ended sooner)') });
    expect(await state.part('v', 'sessiona-999.p0.m4s')).toEqual({ kind: 'missing', reason: UNKNOWN_PART });
  });

  it('does not list parts of a new session before its first segment (with its discontinuity and init segment) is listed', async () => {
    const state = new LiveStreamState();
    state.acceptPlaylist('v', playlist(3));
    state.acceptPart('v', part(3, 0, { session: 'sessionb' }));
    const answer = await state.playlist({ rendition: 'v', skip: false });
    expect(answer.kind === 'playlist' && answer.text).not.toContain('sessionb-300.p0.m4s');
  });

  it('never goes back to an older playlist, and drops parts of segments long listed once they have been out of the playlist three target durations', async () => {
    let clock = 0;
    const state = new LiveStreamState({ now: () => clock });
    state.acceptPlaylist('v', playlist(5));
    state.acceptPlaylist('v', playlist(4));
    const answer = await state.playlist({ rendition: 'v', block: { msn: 4 }, skip: false });
    expect(answer.kind).toBe('playlist');
    state.acceptPart('v', part(5, 0));
    state.acceptPlaylist('v', playlist(12));
    expect(await state.part('v', 'sessiona-500.p0.m4s')).toMatchObject({ kind: 'part' });
    clock += 7_001;
    state.acceptPlaylist('v', playlist(13));
    expect(await state.part('v', 'sessiona-500.p0.m4s')).toEqual({ kind: 'missing', reason: UNKNOWN_PART });
  });

  it('lists a part group with a missing part as its whole segment only', async () => {
    const state = new LiveStreamState();
    state.acceptPlaylist('v', playlist(3));
    state.acceptPart('v', part(3, 0));
    state.acceptPart('v', part(3, 2));
    const answer = await state.playlist({ rendition: 'v', skip: false });
    expect(answer.kind === 'playlist' && answer.text).not.toContain('#EXT-X-PART:');
  });
});

describe('per-viewer rewriting of a low-latency playlist', () => {
  it('gives parts and the preload hint the token and CDN base of segments, and rendition reports the token only', () => {
    const text = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-MAP:URI="init-a.mp4"\n#EXT-X-PART:DURATION=0.3,URI="a-0.p0.m4s",INDEPENDENT=YES\n#EXTINF:2,\na-0.m4s\n#EXT-X-PRELOAD-HINT:TYPE=PART,URI="a-200.p0.m4s"\n#EXT-X-RENDITION-REPORT:URI="../audio/index.m3u8",LAST-MSN=0,LAST-PART=6\n';
    const rewritten = rewriteMediaPlaylist(text, { token: 'tok' }, { segmentBaseUrl: 'https://cdn.example/live/s/v/' });
    expect(rewritten).toContain('URI="https://cdn.example/live/s/v/a-0.p0.m4s?token=tok",INDEPENDENT=YES');
    expect(rewritten).toContain('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="https://cdn.example/live/s/v/a-200.p0.m4s?token=tok"');
    expect(rewritten).toContain('#EXT-X-RENDITION-REPORT:URI="../audio/index.m3u8?token=tok",LAST-MSN=0,LAST-PART=6');
  });
});

/** Six 0.333 s parts for segment `msn` (the last one hinting the next segment's first part). */
function wholeSegmentParts(state: LiveStreamState, rendition: string, msn: number, options: { session?: string; bytes?: (index: number) => number[] } = {}): void {
  const session = options.session ?? 'sessiona';
  for (let index = 0; index < 6; index++) {
    state.acceptPart(rendition, part(msn, index, { session, next: index === 5 ? `${session}-${(msn + 1) * 100}.p0.m4s` : undefined, bytes: options.bytes?.(index) }));
  }
}

const FACTS = { targetDuration: 2, partTarget: 0.333 };

async function text(answer: Promise<PlaylistAnswer>): Promise<string> {
  const settled = await answer;
  if (settled.kind !== 'playlist') throw new Error(`expected a playlist, got ${JSON.stringify(settled)}`);
  return settled.text;
}

async function pending(promise: Promise<unknown>, ms = 30): Promise<boolean> {
  const marker = Symbol('pending');
  return (await Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve(marker), ms))])) === marker;
}

describe('blocking reloads at segment boundaries (rfc8216bis 6.2.5.2)', () => {
  it('holds part N+1 of a segment whose last part is N until the next segment\'s first part is listed, never refuses it', async () => {
    const state = new LiveStreamState();
    state.acceptPlaylist('v', playlist(3));
    wholeSegmentParts(state, 'v', 3);
    // hls.js asks _HLS_msn=3&_HLS_part=6: segment 3 ended with part 5.
    const boundary = state.playlist({ rendition: 'v', block: { msn: 3, part: 6 }, skip: false, facts: FACTS });
    expect(await pending(boundary)).toBe(true);
    state.acceptPlaylist('v', playlist(4));
    // Segment 3 listed whole is not what was asked for: still held.
    expect(await pending(boundary)).toBe(true);
    state.acceptPart('v', part(4, 0));
    const answered = await text(boundary);
    expect(answered).toContain('URI="sessiona-400.p0.m4s"');
    // Asked again after the fact: the same answer at once.
    expect(await text(state.playlist({ rendition: 'v', block: { msn: 3, part: 6 }, skip: false, facts: FACTS }))).toBe(answered);
  });

  it('gives the same verdict whether the next segment\'s parts are listed yet or wait for their discontinuity', async () => {
    const verdicts: string[] = [];
    for (const session of ['sessiona', 'sessionb']) {
      const state = new LiveStreamState({ holdMs: () => 50 });
      state.acceptPlaylist('v', playlist(3));
      for (let index = 0; index < 3; index++) state.acceptPart('v', part(3, index, { session }));
      for (const request of [{ msn: 3, part: 11 }, { msn: 3, part: 12 }, { msn: 4, part: 8 }, { msn: 4, part: 9 }, { msn: 2, part: 9 }]) {
        const answer = await state.playlist({ rendition: 'v', block: request, skip: false, facts: FACTS });
        verdicts.push(`${session === 'sessiona' ? 'listed' : 'unlisted'} ${request.msn}/${request.part}: ${answer.kind === 'too-far' ? 'refused' : answer.kind === 'timeout' ? 'held' : answer.kind}`);
      }
    }
    expect(verdicts).toEqual([
      'listed 3/11: held',
      'listed 3/12: refused',
      'listed 4/8: held',
      'listed 4/9: refused',
      'listed 2/9: playlist',
      'unlisted 3/11: held',
      'unlisted 3/12: refused',
      'unlisted 4/8: held',
      'unlisted 4/9: refused',
      'unlisted 2/9: playlist',
    ]);
  });

  it('releases only the rendition that changed: another rendition\'s held request stays held', async () => {
    const state = new LiveStreamState();
    for (const rendition of ['v', 'a']) state.acceptPlaylist(rendition, playlist(3));
    const audio = state.playlist({ rendition: 'a', block: { msn: 3, part: 0 }, skip: false, facts: FACTS });
    state.acceptPart('v', part(3, 0));
    expect(await pending(audio)).toBe(true);
    state.acceptPart('a', part(3, 0));
    expect(await text(audio)).toContain('URI="sessiona-300.p0.m4s"');
  });
});

describe('parts and hints', () => {
  it('answers a held hinted part with that rendition\'s bytes, never another rendition\'s part of the same name', async () => {
    const state = new LiveStreamState();
    for (const rendition of ['480p', '360p']) {
      state.acceptPlaylist(rendition, playlist(3));
      state.acceptPart(rendition, part(3, 0));
    }
    const hinted = state.part('480p', 'sessiona-300.p1.m4s');
    state.acceptPart('360p', part(3, 1, { bytes: [3, 6, 0] }));
    expect(await pending(hinted)).toBe(true);
    state.acceptPart('480p', part(3, 1, { bytes: [4, 8, 0] }));
    expect(await hinted).toMatchObject({ kind: 'part', bytes: new Uint8Array([4, 8, 0]) });
  });

  it('tells the holders of a hinted part that will not come at once, in that rendition only', async () => {
    const state = new LiveStreamState();
    for (const rendition of ['v', 'a']) {
      state.acceptPlaylist(rendition, playlist(3));
      state.acceptPart(rendition, part(3, 0));
    }
    const video = state.part('v', 'sessiona-300.p1.m4s');
    const audio = state.part('a', 'sessiona-300.p1.m4s');
    // The video segment ended early (a keyframe): its next part starts segment 4.
    state.acceptPart('v', part(4, 0));
    expect(await video).toEqual({ kind: 'missing', reason: partWillNotCome('sessiona-300.p1.m4s', 'sessiona-400.p0.m4s came instead (its segment ended sooner)') });
    expect(await pending(audio)).toBe(true);
    state.acceptPart('a', part(3, 1));
    expect(await audio).toMatchObject({ kind: 'part' });
  });

  it('answers the holders of a part the sidecar withholds 404 at once with its reason, a later request the same, and hints it no more', async () => {
    const state = new LiveStreamState();
    for (const rendition of ['v', 'a']) {
      state.acceptPlaylist(rendition, playlist(3));
      state.acceptPart(rendition, part(3, 0, { next: 'sessiona-400.p0.m4s' }));
    }
    const held = state.part('v', 'sessiona-400.p0.m4s');
    const audio = state.part('a', 'sessiona-400.p0.m4s');
    expect(await pending(held)).toBe(true);
    state.partSkipped('v', 'sessiona-400.p0.m4s', 'storage is behind');
    const withheld = { kind: 'missing', reason: partWillNotCome('sessiona-400.p0.m4s', 'storage is behind') };
    expect(await held).toEqual(withheld);
    expect(await state.part('v', 'sessiona-400.p0.m4s')).toEqual(withheld);
    const answer = await state.playlist({ rendition: 'v', skip: false });
    expect(answer.kind === 'playlist' && answer.text).not.toContain('PRELOAD-HINT');
    // Renditions share part names: the audio's part of that name still comes.
    expect(await pending(audio)).toBe(true);
    state.acceptPart('a', part(4, 0));
    expect(await audio).toMatchObject({ kind: 'part' });
  });

  it('does not hint a part already said not to come, when a part that names it arrives after the word (a stopped channel\'s last parts sent again)', async () => {
    const state = new LiveStreamState();
    state.acceptPlaylist('v', playlist(3));
    state.acceptPart('v', part(3, 0));
    state.partsStopped('the channel closed');
    expect(await state.part('v', 'sessiona-300.p1.m4s')).toEqual({ kind: 'missing', reason: partWillNotCome('sessiona-300.p1.m4s', 'the channel closed') });
    state.partSkipped('v', 'sessiona-300.p2.m4s', 'the run ended');
    state.acceptPart('v', part(3, 1));
    const answer = await state.playlist({ rendition: 'v', skip: false });
    expect(answer.kind === 'playlist' && answer.text).not.toContain('PRELOAD-HINT');
    expect(await state.part('v', 'sessiona-300.p2.m4s')).toEqual({ kind: 'missing', reason: partWillNotCome('sessiona-300.p2.m4s', 'the run ended') });
    // A part that was said not to come but came after all is served.
    expect(await state.part('v', 'sessiona-300.p1.m4s')).toMatchObject({ kind: 'part' });
  });

  it('hints the next segment\'s first part once a segment is listed whole, and serves it when it comes', async () => {
    const state = new LiveStreamState();
    state.acceptPlaylist('v', playlist(3));
    wholeSegmentParts(state, 'v', 3);
    state.acceptPlaylist('v', playlist(4));
    expect(await text(state.playlist({ rendition: 'v', skip: false, facts: FACTS }))).toContain('#EXT-X-PRELOAD-HINT:TYPE=PART,URI="sessiona-400.p0.m4s"\n');
    const hinted = state.part('v', 'sessiona-400.p0.m4s');
    state.acceptPart('v', part(4, 0, { bytes: [9] }));
    expect(await hinted).toMatchObject({ kind: 'part', bytes: new Uint8Array([9]) });
  });

  it('lists parts only for the last three target durations, and serves a part with the same bytes for three target durations after it left the playlist', async () => {
    let clock = 0;
    const state = new LiveStreamState({ now: () => clock });
    const bytes = (msn: number) => (index: number) => [msn, index, 7];
    state.acceptPlaylist('v', playlist(3));
    for (let msn = 3; msn < 12; msn++) {
      wholeSegmentParts(state, 'v', msn, { bytes: bytes(msn) });
      clock += 2000;
      state.acceptPlaylist('v', playlist(msn + 1));
      const listed = await text(state.playlist({ rendition: 'v', skip: false, facts: FACTS }));
      const segmentsWithParts = new Set([...listed.matchAll(/^#EXT-X-PART:.*URI="sessiona-(\d+)\.p\d+\.m4s"/gm)].map((m) => Number(m[1]) / 100));
      // Segments end at the playlist's end: the newest three start within 6 s of it.
      expect([...segmentsWithParts]).toEqual([msn - 2, msn - 1, msn].filter((n) => n >= 3));
    }
    // With a part of the next segment listed, the oldest of the three starts more than 6 s from the end.
    state.acceptPart('v', part(12, 0, { bytes: [12, 0, 7] }));
    const withPending = await text(state.playlist({ rendition: 'v', skip: false, facts: FACTS, block: { msn: 12, part: 0 } }));
    expect(new Set([...withPending.matchAll(/^#EXT-X-PART:.*URI="sessiona-(\d+)\.p\d+\.m4s"/gm)].map((m) => Number(m[1]) / 100))).toEqual(new Set([10, 11, 12]));
    // Segment 8's parts left the playlist when segment 11's parts filled two seconds after segments
    // 9 and 10 (clock 16 s): the state rolls on for two more segments, and they are still served
    // until 16 + 6 s (and a second's margin), not after.
    for (const msn of [12, 13]) {
      clock += 2000;
      wholeSegmentParts(state, 'v', msn, { bytes: bytes(msn) });
      state.acceptPlaylist('v', playlist(msn + 1));
    }
    clock = 22_000;
    state.acceptPart('v', part(14, 0));
    expect(await state.part('v', 'sessiona-800.p3.m4s')).toEqual({ kind: 'part', bytes: new Uint8Array([8, 3, 7]), contentType: 'video/mp4' });
    clock = 23_001;
    state.acceptPart('v', part(14, 1));
    expect(await state.part('v', 'sessiona-800.p3.m4s')).toEqual({ kind: 'missing', reason: UNKNOWN_PART });
  });

  it('keeps the parts of a segment whose number a new session reuses fetchable', async () => {
    const state = new LiveStreamState();
    state.acceptPlaylist('v', playlist(3));
    state.acceptPart('v', part(3, 0, { bytes: [1] }));
    state.acceptPart('v', part(3, 0, { session: 'sessionb', bytes: [2] }));
    expect(await state.part('v', 'sessiona-300.p0.m4s')).toMatchObject({ bytes: new Uint8Array([1]) });
    expect(await state.part('v', 'sessionb-300.p0.m4s')).toMatchObject({ bytes: new Uint8Array([2]) });
  });
});

describe('EXT-X-SERVER-CONTROL', () => {
  it('reads the same in every reload of every rendition, from the first (no parts yet, short playlist) to a long one', async () => {
    const state = new LiveStreamState();
    const controls = new Set<string>();
    const control = async (rendition: string, skip = false) => {
      const body = await text(state.playlist({ rendition, skip, facts: FACTS, listed: true }));
      controls.add(/^#EXT-X-SERVER-CONTROL:.*$/m.exec(body)?.[0] ?? 'none');
      controls.add(/^#EXT-X-PART-INF:.*$/m.exec(body)?.[0] ?? 'none');
      return body;
    };
    for (const rendition of ['v', 'a']) state.acceptPlaylist(rendition, playlist(1));
    await control('v');
    // A skip request on a playlist shorter than the boundary: the whole playlist.
    expect(await control('a', true)).not.toContain('#EXT-X-SKIP');
    for (let msn = 1; msn < 10; msn++) {
      for (const rendition of ['v', 'a']) {
        wholeSegmentParts(state, rendition, msn);
        state.acceptPlaylist(rendition, playlist(msn + 1));
        await control(rendition);
      }
    }
    expect(await control('v', true)).toContain('#EXT-X-SKIP:SKIPPED-SEGMENTS=4\n');
    expect([...controls]).toEqual(['#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.999,CAN-SKIP-UNTIL=12.0', '#EXT-X-PART-INF:PART-TARGET=0.33300']);
  });
});

describe('renditions the stream does not have, and the held-request limits', () => {
  it('refuses a rendition with no live state that the status does not list at once, and counts it', async () => {
    const lines: string[] = [];
    const state = new LiveStreamState({ log: (line) => lines.push(line), holdMs: () => 50 });
    state.acceptPlaylist('v', playlist(3));
    for (let n = 0; n < 300; n++) expect(await state.playlist({ rendition: `zz${n}`, block: { msn: 5 }, skip: false, facts: FACTS })).toEqual({ kind: 'no-such-rendition' });
    expect(state.held).toBe(0);
    expect(state.refusals.unknownRendition).toBe(300);
    // One log line, not three hundred.
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('renditions the stream does not have');
    // Listed in the stream's status (no live state yet): held as any other.
    expect(await state.playlist({ rendition: 'audio', listed: true, block: { msn: 3 }, skip: false, facts: FACTS })).toEqual({ kind: 'timeout' });
  });

  it('holds at most the stream\'s and each address\'s limit, and answers beyond it busy at once', async () => {
    const state = new LiveStreamState({ limits: { perStream: 5, perAddress: 2 }, log: () => undefined });
    state.acceptPlaylist('v', playlist(3));
    state.acceptPart('v', part(3, 0));
    const ask = (client: string | undefined, partIndex = 1) => state.playlist({ rendition: 'v', block: { msn: 3, part: partIndex }, skip: false, facts: FACTS, client });
    const held = [ask('198.51.100.1'), ask('198.51.100.1'), ask('198.51.100.2', 2)];
    expect(await ask('198.51.100.1')).toMatchObject({ kind: 'busy', retryAfterSeconds: 1 });
    // The hinted part counts too.
    const hinted = state.part('v', 'sessiona-300.p1.m4s', '198.51.100.2');
    expect(await state.part('v', 'sessiona-300.p1.m4s', '198.51.100.2')).toMatchObject({ kind: 'busy' });
    held.push(ask(undefined));
    expect(state.held).toBe(5);
    expect(await ask('198.51.100.3')).toMatchObject({ kind: 'busy' });
    expect(state.refusals).toEqual({ unknownRendition: 0, streamLimit: 1, addressLimit: 2 });
    state.acceptPart('v', part(3, 1));
    state.acceptPart('v', part(3, 2));
    expect((await Promise.all([...held, hinted])).map((answer) => answer.kind)).toEqual(['playlist', 'playlist', 'playlist', 'playlist', 'part']);
    // Places given back: the address may hold again.
    expect(state.held).toBe(0);
    expect(await pending(ask('198.51.100.1', 3))).toBe(true);
  });
});
