import { describe, expect, it } from 'vitest';
import { LiveStreamState, type IncomingPart } from '../../../edge/low-latency/live-stream-state.ts';
import { rewriteMediaPlaylist } from '../../../edge/manifest/playback-rewrite.ts';

function playlist(count: number, session = 'sa'): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:2', '#EXT-X-MEDIA-SEQUENCE:0', `#EXT-X-MAP:URI="init-${session}.mp4"`];
  for (let msn = 0; msn < count; msn++) lines.push('#EXTINF:2.00000,', `${session}-${msn * 100}.m4s`);
  return `${lines.join('\n')}\n`;
}

function part(msn: number, index: number, options: { session?: string; next?: string } = {}): IncomingPart {
  const session = options.session ?? 'sa';
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
    bytes: new Uint8Array([msn, index]),
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
    const hinted = state.part('v', 'sa-300.p1.m4s');
    // The encoder started the next segment instead: this part names another segment.
    state.acceptPart('v', part(3, 1, { next: 'sa-400.p0.m4s' }));
    expect(await hinted).toMatchObject({ kind: 'part' });
    const wrongGuess = state.part('v', 'sa-400.p0.m4s');
    state.acceptPart('v', part(3, 2));
    expect(await wrongGuess).toEqual({ kind: 'missing' });
    expect(await state.part('v', 'sa-999.p0.m4s')).toEqual({ kind: 'missing' });
  });

  it('does not list parts of a new session before its first segment (with its discontinuity and init segment) is listed', async () => {
    const state = new LiveStreamState();
    state.acceptPlaylist('v', playlist(3));
    state.acceptPart('v', part(3, 0, { session: 'sb' }));
    const answer = await state.playlist({ rendition: 'v', skip: false });
    expect(answer.kind === 'playlist' && answer.text).not.toContain('sb-300.p0.m4s');
  });

  it('never goes back to an older playlist, and drops parts of segments long listed', async () => {
    const state = new LiveStreamState();
    state.acceptPlaylist('v', playlist(5));
    state.acceptPlaylist('v', playlist(4));
    const answer = await state.playlist({ rendition: 'v', block: { msn: 4 }, skip: false });
    expect(answer.kind).toBe('playlist');
    state.acceptPart('v', part(5, 0));
    state.acceptPlaylist('v', playlist(12));
    expect(await state.part('v', 'sa-500.p0.m4s')).toEqual({ kind: 'missing' });
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
