import { describe, expect, it } from 'vitest';
import { canonicalFacts, deltaUpdate, listedPartDuration, renderLowLatencyPlaylist, type PartLine } from '../../../edge/manifest/low-latency-playlist.ts';
import { parseM3u8 } from '../../helpers/m3u8.ts';

/** The low-latency fields m3u8-parser reads (its types do not name them all). */
interface LowLatencyManifest {
  partInf?: unknown;
  serverControl?: unknown;
  skip?: unknown;
  mediaSequence?: number;
  segments: Array<{ uri: string; parts?: Array<{ uri: string }>; map?: unknown; dateTimeString?: string; discontinuity?: boolean }>;
  preloadSegment?: { parts?: Array<{ uri: string }>; preloadHints?: unknown };
  renditionReports?: unknown;
}

function parseLowLatency(text: string): LowLatencyManifest {
  return parseM3u8(text) as unknown as LowLatencyManifest;
}

/** A canonical playlist of `count` 2 s segments from `first`, one session, a reconnect before segment `reconnectAt`. */
function canonical(count: number, first = 0, reconnectAt?: number): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:2', `#EXT-X-MEDIA-SEQUENCE:${first}`, '#EXT-X-MAP:URI="init-a.mp4"'];
  for (let msn = first; msn < first + count; msn++) {
    if (msn === reconnectAt) lines.push('#EXT-X-DISCONTINUITY', '#EXT-X-MAP:URI="init-b.mp4"');
    lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(1_700_000_000_000 + msn * 2000).toISOString()}`, '#EXTINF:2.00000,', `${reconnectAt !== undefined && msn >= reconnectAt ? 'b' : 'a'}-${msn}.m4s`);
  }
  return `${lines.join('\n')}\n`;
}

function parts(segment: string, count: number): PartLine[] {
  return Array.from({ length: count }, (_, index) => ({ uri: `${segment.replace('.m4s', '')}.p${index}.m4s`, duration: 0.33333, independent: index === 0 }));
}

describe('low-latency playlist rendering', () => {
  const text = renderLowLatencyPlaylist(canonical(5), {
    partTarget: 0.4,
    segmentParts: new Map([
      ['a-3.m4s', parts('a-3.m4s', 6)],
      ['a-4.m4s', parts('a-4.m4s', 6)],
    ]),
    pendingParts: parts('a-5.m4s', 2),
    preloadHint: 'a-5.p2.m4s',
    reports: [{ uri: '../audio/index.m3u8', lastMsn: 5, lastPart: 1 }],
    canSkipUntil: 12,
  });

  it('reads as players read it: parts per segment, the part being cut, hint, report, server control', () => {
    const manifest = parseLowLatency(text);
    expect(manifest.partInf).toEqual({ partTarget: 0.4 });
    expect(manifest.serverControl).toMatchObject({ canBlockReload: true, partHoldBack: 1.2, canSkipUntil: 12 });
    expect(manifest.segments.map((segment) => segment.uri)).toEqual(['a-0.m4s', 'a-1.m4s', 'a-2.m4s', 'a-3.m4s', 'a-4.m4s']);
    expect(manifest.segments[3]!.parts!.map((part) => part.uri)).toEqual(parts('a-3.m4s', 6).map((part) => part.uri));
    expect(manifest.segments[2]!.parts).toBeUndefined();
    expect(manifest.segments[4]!.parts![0]).toMatchObject({ duration: 0.33334, independent: true });
    expect(manifest.preloadSegment!.parts!.map((part) => part.uri)).toEqual(['a-5.p0.m4s', 'a-5.p1.m4s']);
    expect(manifest.preloadSegment!.preloadHints).toEqual([{ type: 'PART', uri: 'a-5.p2.m4s' }]);
    expect(manifest.renditionReports).toEqual([{ uri: '../audio/index.m3u8', lastMsn: 5, lastPart: 1 }]);
    // The segment tags stay with their segment: parts between PROGRAM-DATE-TIME and EXTINF.
    expect(text).toMatch(/#EXT-X-PROGRAM-DATE-TIME:[^\n]+\n#EXT-X-PART:DURATION=0\.33334,URI="a-3\.p0\.m4s",INDEPENDENT=YES\n/);
  });

  it('leaves an ended playlist as it is', () => {
    const ended = `${canonical(3)}#EXT-X-ENDLIST\n`;
    expect(renderLowLatencyPlaylist(ended, { partTarget: 0.4, segmentParts: new Map(), pendingParts: parts('a-3.m4s', 1), reports: [] })).toBe(ended);
  });

  it('reads the facts it needs from a canonical playlist in one scan', () => {
    expect(canonicalFacts(canonical(10, 20), 3)).toEqual({
      mediaSequence: 20,
      targetDuration: 2,
      segmentCount: 10,
      totalDuration: 20,
      ended: false,
      tail: ['a-27.m4s', 'a-28.m4s', 'a-29.m4s'],
      tailDurations: [2, 2, 2],
      tailGaps: [false, false, false],
      lastProgramDateTime: 1_700_000_000_000 + 29 * 2000,
    });
  });

  it.each([
    ['a gap before the last segment', '#EXT-X-GAP\n#EXTINF:2.000,\na-1.m4s\n#EXTINF:2.000,\na-2.m4s\n', [true, false], undefined],
    ['the last segment a gap, with a date', '#EXTINF:2.000,\na-1.m4s\n#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:02.000Z\n#EXT-X-GAP\n#EXTINF:2.000,\na-2.m4s\n', [false, true], Date.UTC(2026, 0, 1, 0, 0, 2)],
    ['a date on an older segment only (none for the last)', '#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:00:00.000Z\n#EXTINF:2.000,\na-1.m4s\n#EXTINF:2.000,\na-2.m4s\n', [false, false], undefined],
  ])('reads gaps and the last segment\'s date: %s', (_what, segments, gaps, date) => {
    const facts = canonicalFacts(`#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:1\n#EXT-X-MAP:URI="init-a.mp4"\n${segments}`);
    expect(facts.tailGaps).toEqual(gaps);
    expect(facts.lastProgramDateTime).toBe(date);
  });
});

describe('segments closed from their parts', () => {
  const text = renderLowLatencyPlaylist(canonical(5), {
    partTarget: 0.4,
    segmentParts: new Map([['a-4.m4s', parts('a-4.m4s', 6)]]),
    closedSegments: [
      { uri: 'a-5.m4s', duration: 1.99998, parts: parts('a-5.m4s', 6), programDateTime: 1_700_000_010_000 },
      { uri: 'a-6.m4s', duration: 1.99998, parts: parts('a-6.m4s', 6) },
    ],
    pendingParts: parts('a-7.m4s', 1),
    preloadHint: 'a-7.p1.m4s',
    reports: [],
    canSkipUntil: 12,
  });

  it('lists them after the stored segments, whole (parts, date, EXTINF, URI), before the parts being cut', () => {
    const manifest = parseLowLatency(text);
    expect(manifest.segments.map((segment) => segment.uri)).toEqual(['a-0.m4s', 'a-1.m4s', 'a-2.m4s', 'a-3.m4s', 'a-4.m4s', 'a-5.m4s', 'a-6.m4s']);
    expect(manifest.segments[5]!.parts!.map((part) => part.uri)).toEqual(parts('a-5.m4s', 6).map((part) => part.uri));
    expect(manifest.segments[5]).toMatchObject({ duration: 1.99998, dateTimeString: '2023-11-14T22:13:30.000Z' });
    expect(manifest.segments[6]!.parts).toHaveLength(6);
    expect(manifest.preloadSegment!.parts!.map((part) => part.uri)).toEqual(['a-7.p0.m4s']);
    expect(text).toContain('#EXT-X-PART:DURATION=0.33334,URI="a-6.p5.m4s"\n#EXTINF:1.99998,\na-6.m4s\n#EXT-X-PART:DURATION=0.33334,URI="a-7.p0.m4s",INDEPENDENT=YES\n');
  });

  it('reads the same after a delta update', () => {
    const manifest = parseLowLatency(deltaUpdate(text, 12));
    // Seven segments of about 2 s, 12 s kept: the oldest goes; the closed ones count like any other.
    expect(manifest.skip).toEqual({ skippedSegments: 1 });
    expect(manifest.segments.map((segment) => segment.uri)).toEqual(['a-1.m4s', 'a-2.m4s', 'a-3.m4s', 'a-4.m4s', 'a-5.m4s', 'a-6.m4s']);
    expect(manifest.segments[4]!.dateTimeString).toBe('2023-11-14T22:13:30.000Z');
  });
});

describe('playlist delta updates', () => {
  it('replaces the segments that start more than the skip boundary before the end with EXT-X-SKIP', () => {
    const full = renderLowLatencyPlaylist(canonical(10, 100), { partTarget: 0.4, segmentParts: new Map(), pendingParts: parts('a-110.m4s', 1), reports: [], canSkipUntil: 12 });
    const delta = deltaUpdate(full, 12);
    const manifest = parseLowLatency(delta);
    expect(manifest.skip).toEqual({ skippedSegments: 4 });
    expect(manifest.mediaSequence).toBe(100);
    expect(manifest.segments.map((segment) => segment.uri)).toEqual(['a-104.m4s', 'a-105.m4s', 'a-106.m4s', 'a-107.m4s', 'a-108.m4s', 'a-109.m4s']);
    // The kept segments keep their own tags and the init segment they need.
    expect(manifest.segments[0]!.map).toEqual({ uri: 'init-a.mp4' });
    expect(manifest.segments[0]!.dateTimeString).toBe(new Date(1_700_000_000_000 + 104 * 2000).toISOString());
    expect(delta).toContain('#EXT-X-VERSION:9\n');
    expect(delta).toContain('#EXT-X-PART:DURATION=0.33334,URI="a-110.p0.m4s",INDEPENDENT=YES\n');
  });

  it('keeps a discontinuity and the new init segment when they fall among the kept segments, and the newer map when skipped', () => {
    const kept = parseLowLatency(deltaUpdate(canonical(10, 0, 8), 12));
    expect(kept.skip).toEqual({ skippedSegments: 4 });
    expect(kept.segments[4]).toMatchObject({ uri: 'b-8.m4s', discontinuity: true, map: { uri: 'init-b.mp4' } });
    expect(kept.segments[0]!.map).toEqual({ uri: 'init-a.mp4' });
    const skipped = parseLowLatency(deltaUpdate(canonical(10, 0, 2), 12));
    expect(skipped.segments[0]).toMatchObject({ uri: 'b-4.m4s', map: { uri: 'init-b.mp4' } });
  });

  it('changes nothing when no segment starts beyond the boundary', () => {
    const short = canonical(6);
    expect(deltaUpdate(short, 12)).toBe(short);
  });
});

describe("a part's listed DURATION (Shaka Player 5.2.12 drops a part listed to start before its media)", () => {
  it('is a little longer than the part, never shorter, at most 10 us: every later part of a segment starts after its media', () => {
    // Video at 30 fps (6 and 10 frames), 25 fps, AAC at 48 kHz (10 and 16 frames), and what float sums give.
    for (const seconds of [0.2, 1 / 3, 0.24, 10240 / 48000, 16384 / 48000, 0.1 + 0.2, 0.30000000000000004, 0.29999999999999993]) {
      const listed = Number(listedPartDuration(seconds, 0.5));
      expect(listed, String(seconds)).toBeGreaterThan(seconds);
      expect(listed - seconds, String(seconds)).toBeLessThanOrEqual(0.00001 + 1e-9);
    }
    expect(listedPartDuration(0.2, 0.22)).toBe('0.20001');
    // Summed as a player sums them: ten 0.2 s parts, each start after its media, the segment's end within 0.1 ms.
    let start = 0;
    for (let index = 1; index <= 10; index++) {
      start += Number(listedPartDuration(0.2, 0.22));
      expect(start).toBeGreaterThan(index * 0.2);
    }
    expect(start - 2).toBeLessThanOrEqual(0.0001 + 1e-9);
  });

  it('never passes the PART-TARGET as listed: a part as long as the target is listed as it is', () => {
    expect(listedPartDuration(0.22, 0.22)).toBe('0.22000');
    expect(listedPartDuration(0.333, 0.333)).toBe('0.33300');
    expect(listedPartDuration(0.33299, 0.333)).toBe('0.33300');
  });
});
