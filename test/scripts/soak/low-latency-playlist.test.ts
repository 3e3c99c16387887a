import { describe, expect, it } from 'vitest';
import { askedPart, readLowLatencyPlaylist } from '../../../scripts/soak/low-latency-playlist.ts';

const URL_BASE = 'http://edge.test/live/s/source/index.m3u8';
const T0 = Date.parse('2026-12-06T12:00:00.000Z');

/** Two complete segments of three parts, then `pending` parts of the third and the hint for the next. */
function playlist(pending: number, hint = `s-4.p${pending}.m4s`): string {
  const lines = ['#EXTM3U', '#EXT-X-TARGETDURATION:1', '#EXT-X-PART-INF:PART-TARGET=0.333', '#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=1', '#EXT-X-MEDIA-SEQUENCE:7', '#EXT-X-MAP:URI="init.mp4"'];
  for (const [n, name] of ['s-0', 's-2'].entries()) {
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(T0 + n * 1000).toISOString()}`);
    for (let p = 0; p < 3; p += 1) lines.push(`#EXT-X-PART:DURATION=0.333,URI="${name}.p${p}.m4s"${p === 0 ? ',INDEPENDENT=YES' : ''}`);
    lines.push('#EXTINF:1.0,', `${name}.m4s`);
  }
  for (let p = 0; p < pending; p += 1) lines.push(`#EXT-X-PART:DURATION=0.333,URI="s-4.p${p}.m4s"`);
  lines.push(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${hint}"`);
  return `${lines.join('\n')}\n`;
}

describe('readLowLatencyPlaylist', () => {
  const cases = [
    { name: 'parts pending in the open segment: the next part of that segment', pending: 2, next: { msn: 9, part: 2 }, lastEnd: T0 + 2000 + 666 },
    { name: 'the open segment has no part yet: part N+1 of the last complete segment (as hls.js asks)', pending: 0, next: { msn: 8, part: 3 }, lastEnd: T0 + 1000 + 999 },
  ];
  for (const { name, pending, next, lastEnd } of cases) {
    it(name, () => {
      const read = readLowLatencyPlaylist(playlist(pending, `s-4.p${pending}.m4s`), URL_BASE);
      expect(read.next).toEqual(next);
      expect(read.hint).toBe(`http://edge.test/live/s/source/s-4.p${pending}.m4s`);
      expect(read.parts).toHaveLength(6 + pending);
      expect(read.segments.map((segment) => [segment.msn, segment.url])).toEqual([
        [7, 'http://edge.test/live/s/source/s-0.m4s'],
        [8, 'http://edge.test/live/s/source/s-2.m4s'],
      ]);
      expect(read.parts.at(-1)!.mediaEndAt).toBeCloseTo(lastEnd, 0);
      expect(read.ended).toBe(false);
    });
  }

  it('the part asked for: the exact one, or the next segment\'s first for part N+1 of a segment of N', () => {
    const read = readLowLatencyPlaylist(playlist(1), URL_BASE);
    expect(askedPart(read, 8, 1)?.url).toBe('http://edge.test/live/s/source/s-2.p1.m4s');
    expect(askedPart(read, 8, 3)?.url).toBe('http://edge.test/live/s/source/s-4.p0.m4s');
    expect(askedPart(read, 8, 3)?.mediaEndAt).toBeCloseTo(T0 + 2333, 0);
    expect(askedPart(read, 9, 1)).toBeUndefined();
  });

  it('segments listed without parts: a blocking reload for the next segment (no _HLS_part)', () => {
    const text = '#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES\n#EXT-X-MEDIA-SEQUENCE:4\n#EXTINF:2.0,\na-4.m4s\n#EXTINF:2.0,\na-5.m4s\n';
    const read = readLowLatencyPlaylist(text, URL_BASE);
    expect(read.next).toEqual({ msn: 6 });
    expect(read.parts).toEqual([]);
  });

  it('nothing listed yet: no blocking reload to send', () => {
    const read = readLowLatencyPlaylist('#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n', URL_BASE);
    expect(read.next).toBeUndefined();
    expect(read.hint).toBeUndefined();
  });
});
