import { describe, expect, it } from 'vitest';
import { vlcStartedApart, vlcStartSegments } from './players.ts';

const BASE = 'http://127.0.0.1:41295/live/colors';

/** VLC 3.0.24's debug lines as it prints them: a rendition's segment list, then its fetches. */
function segmentList(rendition: string, first: number, count: number): string[] {
  return Array.from({ length: count }, (_, index) => `[00007f82ec008090] adaptive demux debug:  Segment #${first + index} url=${BASE}/${rendition}/s-${first + index}.m4s stime ${index * 2000000} duration 2000000`);
}
const retrieving = (rendition: string, sequence: number) => `[00007f82ec008090] adaptive demux debug: Retrieving ${BASE}/${rendition}/s-${sequence}.m4s`;

describe("VLC's first segment per rendition, from its log", () => {
  it('reads the start fault seen in CI (2026-12-07): audio listed #2-#11, video fetched later #3-#12, begun on #4 and #5', () => {
    const log = [
      ...segmentList('audio', 2, 10),
      `[00007f82ec008090] adaptive demux debug: Retrieving ${BASE}/audio/init-x.mp4`,
      retrieving('audio', 4),
      ...segmentList('source', 3, 10),
      retrieving('source', 5),
      retrieving('audio', 5),
      retrieving('source', 6),
    ].join('\n');
    expect(vlcStartSegments(log)).toEqual({ [`${BASE}/audio/`]: 4, [`${BASE}/source/`]: 5 });
    expect(vlcStartedApart(vlcStartSegments(log))).toBe(true);
  });

  it('a start on the same segment in every rendition is not the fault, whatever came after', () => {
    const log = [...segmentList('audio', 2, 10), retrieving('audio', 4), ...segmentList('source', 2, 10), retrieving('source', 4), retrieving('audio', 5)].join('\n');
    expect(vlcStartSegments(log)).toEqual({ [`${BASE}/audio/`]: 4, [`${BASE}/source/`]: 4 });
    expect(vlcStartedApart(vlcStartSegments(log))).toBe(false);
  });

  it('a log without HLS segment lists (DASH, or VLC stopped before fetching) says nothing', () => {
    expect(vlcStartSegments(`[x] adaptive demux debug: Retrieving ${BASE}/source/s-1.m4s`)).toEqual({});
    expect(vlcStartedApart(vlcStartSegments(''))).toBe(false);
  });
});
