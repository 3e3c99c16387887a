import { isGap, parseM3u8 as parse } from '../../helpers/m3u8.ts';
import { describe, expect, it } from 'vitest';
import { parseMediaPlaylist, renderMediaPlaylist, summarizeMediaPlaylist, targetDurationFor, type MediaPlaylist } from '../../../shared/hls/media-playlist.ts';

const start = Date.parse('2026-11-24T12:00:00.000Z');
const live: MediaPlaylist = {
  targetDuration: 2,
  mediaSequence: 7,
  discontinuitySequence: 0,
  ended: false,
  segments: [7, 8, 9].map((sequence, i) => ({
    uri: `abc12345-${sequence}.m4s`,
    duration: i === 1 ? 2.048 : 1.9,
    initUri: 'init-abc12345.mp4',
    programDateTime: start + i * 2000,
  })),
};

describe('media playlist', () => {
  it('renders what an HLS parser reads back: map, sequence, durations, program date time', () => {
    const text = renderMediaPlaylist(live);
    const manifest = parse(text);
    expect(manifest.targetDuration).toBe(2);
    expect(manifest.mediaSequence).toBe(7);
    expect(manifest.endList).toBeFalsy();
    expect(manifest.segments.map((s) => [s.uri, s.duration, s.map?.uri])).toEqual([
      ['abc12345-7.m4s', 1.9, 'init-abc12345.mp4'],
      ['abc12345-8.m4s', 2.048, 'init-abc12345.mp4'],
      ['abc12345-9.m4s', 1.9, 'init-abc12345.mp4'],
    ]);
    expect(manifest.segments.map((s) => s.dateTimeObject?.getTime())).toEqual([start, start + 2000, start + 4000]);
    // One EXT-X-MAP for segments sharing an init segment, and the version EXT-X-MAP needs.
    expect(text.match(/#EXT-X-MAP/g)).toHaveLength(1);
    expect(text).toMatch(/^#EXT-X-VERSION:7$/m);
    expect(text).toMatch(/^#EXT-X-INDEPENDENT-SEGMENTS$/m);
  });

  it('ends with EXT-X-ENDLIST once the stream ended', () => {
    const text = renderMediaPlaylist({ ...live, ended: true });
    expect(parse(text).endList).toBe(true);
    expect(text.trimEnd().endsWith('#EXT-X-ENDLIST')).toBe(true);
  });

  it('marks discontinuities and repeats EXT-X-MAP when the init segment changes', () => {
    const segments = [
      live.segments[0]!,
      { ...live.segments[1]!, discontinuity: true, initUri: 'init-def67890.mp4', uri: 'def67890-8.m4s' },
    ];
    const text = renderMediaPlaylist({ ...live, discontinuitySequence: 3, segments });
    const manifest = parse(text);
    expect(manifest.discontinuitySequence).toBe(3);
    expect(manifest.segments[1]!.discontinuity).toBe(true);
    expect(manifest.segments[1]!.map?.uri).toBe('init-def67890.mp4');
  });

  it.each([
    { name: 'nominal when segments are shorter', nominal: 2, durations: [1.9, 2.04], expected: 2 },
    { name: 'the longest rounded segment', nominal: 2, durations: [2, 3.6], expected: 4 },
    { name: 'rounding to nearest (2.4 rounds to 2)', nominal: 2, durations: [2.4], expected: 2 },
    { name: 'the nominal rounded up', nominal: 1.5, durations: [], expected: 2 },
  ])('target duration: $name', ({ nominal, durations, expected }) => {
    const segments = durations.map((duration) => ({ ...live.segments[0]!, duration }));
    expect(targetDurationFor(nominal, segments)).toBe(expected);
  });

  it('marks a gap with EXT-X-GAP right before its EXTINF: numbered and timed like any segment, not to be loaded', () => {
    const text = renderMediaPlaylist({ ...live, segments: [live.segments[0]!, { ...live.segments[1]!, gap: true }, live.segments[2]!] });
    const lines = text.split('\n');
    const gapAt = lines.indexOf('#EXT-X-GAP');
    expect(lines.filter((line) => line === '#EXT-X-GAP')).toHaveLength(1);
    expect(lines[gapAt + 1]).toBe('#EXTINF:2.048,');
    expect(lines[gapAt + 2]).toBe('abc12345-8.m4s');
    expect(parse(text).segments.map(isGap)).toEqual([false, true, false]);
  });

  it('summarizes target duration and end state for the edge', () => {
    expect(summarizeMediaPlaylist(renderMediaPlaylist(live))).toEqual({ targetDuration: 2, ended: false });
    expect(summarizeMediaPlaylist(renderMediaPlaylist({ ...live, ended: true }))).toEqual({ targetDuration: 2, ended: true });
  });
});

describe('parseMediaPlaylist', () => {
  it.each([
    { name: 'a live playlist', playlist: live },
    { name: 'an ended playlist', playlist: { ...live, ended: true } },
    {
      name: 'a playlist across a discontinuity',
      playlist: {
        ...live,
        discontinuitySequence: 2,
        segments: [live.segments[0]!, { ...live.segments[1]!, discontinuity: true, initUri: 'init-def67890.mp4', uri: 'def67890-8.m4s' }],
      },
    },
    { name: 'an empty playlist', playlist: { ...live, segments: [] } },
    {
      name: 'a playlist with a gap (a segment this rendition has no media for)',
      playlist: { ...live, segments: [live.segments[0]!, { ...live.segments[1]!, gap: true }, live.segments[2]!] },
    },
  ])('round-trips $name', ({ playlist }) => {
    expect(parseMediaPlaylist(renderMediaPlaylist(playlist))).toEqual(playlist);
  });

  it.each([
    { name: 'no #EXTM3U', text: '#EXT-X-VERSION:7\n', error: /no #EXTM3U/ },
    { name: 'a segment without EXTINF', text: '#EXTM3U\n#EXT-X-MAP:URI="i.mp4"\na.m4s\n', error: /no #EXTINF/ },
    { name: 'a segment without EXT-X-MAP', text: '#EXTM3U\n#EXTINF:2,\na.m4s\n', error: /no #EXT-X-MAP/ },
    { name: 'a bad duration', text: '#EXTM3U\n#EXT-X-MAP:URI="i.mp4"\n#EXTINF:abc,\na.m4s\n', error: /bad #EXTINF/ },
    { name: 'a bad date', text: '#EXTM3U\n#EXT-X-PROGRAM-DATE-TIME:yesterday\n', error: /PROGRAM-DATE-TIME/ },
  ])('reports $name', ({ text, error }) => {
    expect(() => parseMediaPlaylist(text)).toThrow(error);
  });
});
