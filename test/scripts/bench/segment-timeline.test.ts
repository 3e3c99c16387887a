import { describe, expect, it } from 'vitest';
import { availabilityDelays, parseMediaSegments, SegmentTimeline } from '../../../scripts/bench/segment-timeline.ts';

const NGINX = `#EXTM3U
#EXT-X-VERSION:3
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-TARGETDURATION:2
#EXT-X-DISCONTINUITY
#EXTINF:2.000,
t-0.ts
#EXTINF:1.981,
t-1.ts
`;

const OURS = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-MAP:URI="init-abc12345.mp4"
#EXT-X-PROGRAM-DATE-TIME:2026-11-24T12:00:00.000Z
#EXTINF:2.000,
abc12345-0.m4s
#EXT-X-PROGRAM-DATE-TIME:2026-11-24T12:00:02.000Z
#EXTINF:2.000,
abc12345-180000.m4s
`;

describe('segment timeline', () => {
  it.each([
    { name: "nginx-rtmp's playlist (no dates)", text: NGINX, expected: [{ uri: 't-0.ts', duration: 2 }, { uri: 't-1.ts', duration: 1.981 }] },
    {
      name: 'our playlist (dates, a map)',
      text: OURS,
      expected: [
        { uri: 'abc12345-0.m4s', duration: 2, programDateTime: Date.parse('2026-11-24T12:00:00.000Z') },
        { uri: 'abc12345-180000.m4s', duration: 2, programDateTime: Date.parse('2026-11-24T12:00:02.000Z') },
      ],
    },
    { name: 'an empty playlist', text: '#EXTM3U\n#EXT-X-TARGETDURATION:2\n', expected: [] },
  ])('parses $name', ({ text, expected }) => {
    expect(parseMediaSegments(text)).toEqual(expected);
  });

  it('records when each segment was first listed and where its media ends, as the window slides', () => {
    const timeline = new SegmentTimeline();
    timeline.observe('#EXTM3U\n', 1000);
    timeline.observe('#EXTINF:2,\na.ts\n', 3100);
    timeline.observe('#EXTINF:2,\na.ts\n', 3150);
    timeline.observe('#EXTINF:2,\na.ts\n#EXTINF:2,\nb.ts\n', 5200);
    timeline.observe('#EXTINF:2,\nb.ts\n#EXTINF:1.5,\nc.ts\n', 6800);
    expect(timeline.segments.map(({ uri, index, mediaEnd, firstListedAt }) => ({ uri, index, mediaEnd, firstListedAt }))).toEqual([
      { uri: 'a.ts', index: 0, mediaEnd: 2, firstListedAt: 3100 },
      { uri: 'b.ts', index: 1, mediaEnd: 4, firstListedAt: 5200 },
      { uri: 'c.ts', index: 2, mediaEnd: 5.5, firstListedAt: 6800 },
    ]);
    // Publisher's first frame at 1000: media end of a.ts at 3000, listed at 3100.
    expect(availabilityDelays(timeline.segments, 1000)).toEqual([0.1, 0.2, 0.3]);
    expect(availabilityDelays(timeline.segments, 1000, 1)).toEqual([0.2, 0.3]);
  });
});
