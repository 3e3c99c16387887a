import { parse } from 'mpd-parser';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type DashManifest, renderMpd, summarizeMpd } from '../../../shared/dash/mpd.ts';
import { MpdParseError, parseMpd } from '../../../shared/dash/mpd-parse.ts';

const startSeconds = Date.parse('2026-11-24T12:00:00Z') / 1000;
const period = (id: string, start: number, firstTime: number) => ({
  id,
  start,
  adaptationSets: [
    {
      contentType: 'video' as const,
      representations: [
        {
          id: 'source',
          bandwidth: 900_000,
          codecs: 'avc1.64001e',
          width: 640,
          height: 360,
          frameRate: 30,
          timescale: 1000,
          presentationTimeOffset: firstTime,
          initialization: `source/init-${id}.mp4`,
          media: `source/${id}-$Time$.m4s`,
          segments: [0, 1, 2].map((i) => ({ time: firstTime + i * 2000, duration: 2000 })),
        },
        {
          id: '240p',
          bandwidth: 400_000,
          codecs: 'avc1.64000d',
          width: 426,
          height: 240,
          frameRate: 30,
          timescale: 15360,
          presentationTimeOffset: (firstTime / 1000) * 15360,
          initialization: `240p/init-${id}.mp4`,
          media: `240p/${id}-$Time$.m4s`,
          segments: [0, 1, 2].map((i) => ({ time: ((firstTime + i * 2000) / 1000) * 15360, duration: 30720 })),
        },
      ],
    },
    {
      contentType: 'audio' as const,
      representations: [
        {
          id: 'audio',
          bandwidth: 130_000,
          codecs: 'mp4a.40.2',
          audioSamplingRate: 48000,
          channels: 2,
          timescale: 48000,
          presentationTimeOffset: 0,
          initialization: `audio/init-${id}.mp4`,
          media: `audio/${id}-$Time$.m4s`,
          segments: [0, 1, 2].map((i) => ({ time: i * 98304, duration: 98304 })),
        },
      ],
    },
  ],
});

const live: DashManifest = {
  type: 'dynamic',
  timeline: 'wall-clock',
  publishTime: startSeconds * 1000 + 20_000,
  minimumUpdatePeriod: 2,
  timeShiftBufferDepth: 20,
  suggestedPresentationDelay: 6,
  maxSegmentDuration: 2,
  minBufferTime: 4,
  periods: [period('sessiona1', startSeconds, 0), period('sessionb2', startSeconds + 10, 4000)],
};

describe('renderMpd', () => {
  it('renders a dynamic MPD that a DASH parser reads: periods, templates, segment URLs', () => {
    const text = renderMpd(live);
    expect(text).toContain('type="dynamic"');
    expect(text).toContain('availabilityStartTime="1970-01-01T00:00:00Z"');
    expect(text).toContain('<UTCTiming schemeIdUri="urn:mpeg:dash:utc:direct:2014" value="2026-11-24T12:00:20.000Z"/>');
    // Runs of equal durations collapse into one S element with a repeat count.
    expect(text).toContain('<S t="0" d="2000" r="2"/>');
    const manifest = parse(text, { manifestUri: 'http://edge/live/colors/manifest.mpd', NOW: live.publishTime });
    // Both video renditions, each with its own timescale, in one adaptation set.
    expect(manifest.playlists.map((playlist) => playlist.attributes.NAME)).toEqual(['source', '240p']);
    expect(manifest.playlists[1]!.segments.map((segment) => segment.resolvedUri)).toContain('http://edge/live/colors/240p/sessionb2-122880.m4s');
    const video = manifest.playlists[0]!;
    expect(video.attributes).toMatchObject({ BANDWIDTH: 900000, CODECS: 'avc1.64001e', RESOLUTION: { width: 640, height: 360 } });
    const uris = video.segments.map((segment) => segment.resolvedUri);
    expect(uris).toContain('http://edge/live/colors/source/sessiona1-0.m4s');
    expect(uris).toContain('http://edge/live/colors/source/sessionb2-8000.m4s');
    expect(video.segments[0]!.map?.resolvedUri).toBe('http://edge/live/colors/source/init-sessiona1.mp4');
    // Two Periods: a timeline break between them, as HLS has its discontinuity.
    expect(new Set(video.segments.map((segment) => segment.timeline)).size).toBe(2);
    const audio = Object.values(manifest.mediaGroups.AUDIO)[0]!;
    expect(Object.values(audio)[0]!.playlists[0]!.segments[1]!.resolvedUri).toBe('http://edge/live/colors/audio/sessiona1-98304.m4s');
  });

  it("renders a live stream's static MPD once ended on the timeline it had live, with its end as duration", () => {
    const text = renderMpd({ ...live, type: 'static' });
    expect(text).toContain('type="static"');
    expect(text).not.toContain('availabilityStartTime');
    expect(text).not.toContain('minimumUpdatePeriod');
    // The Periods where they were in every live version: a player watching keeps its timeline.
    expect(text).toContain(`<Period id="sessiona1" start="PT${startSeconds}S">`);
    expect(text).toContain(`<Period id="sessionb2" start="PT${startSeconds + 10}S">`);
    // The presentation runs from 0 to where its longest track ends: the audio, 6.144 s into the second Period.
    expect(text).toContain(`mediaPresentationDuration="PT${startSeconds + 16.144}S"`);
    expect(parse(text, { manifestUri: 'http://edge/live/colors/manifest.mpd' }).playlists[0]!.endList).toBe(true);
  });

  it("renders a recording's static MPD from zero, with its duration", () => {
    const text = renderMpd({ ...live, type: 'static', timeline: 'first-period' });
    expect(text).toContain('<Period id="sessiona1" start="PT0S">');
    expect(text).toContain('<Period id="sessionb2" start="PT10S">');
    expect(text).toContain('mediaPresentationDuration="PT16.144S"');
    expect(parse(text, { manifestUri: 'http://edge/recordings/colors/r1/manifest.mpd' }).playlists[0]!.endList).toBe(true);
  });

  it("points players at the time server first, with the MPD's own time as the fallback", () => {
    const text = renderMpd({ ...live, timeUrl: '/time' });
    const timings = [...text.matchAll(/<UTCTiming schemeIdUri="([^"]+)" value="([^"]+)"\/>/g)].map(([, scheme, value]) => [scheme, value]);
    expect(timings).toEqual([
      ['urn:mpeg:dash:utc:http-iso:2014', '/time'],
      ['urn:mpeg:dash:utc:direct:2014', '2026-11-24T12:00:20.000Z'],
    ]);
    // Inside the MPD element, after the Periods (the schema's order).
    expect(text.indexOf('<UTCTiming')).toBeGreaterThan(text.lastIndexOf('</Period>'));
    expect(text.trimEnd().endsWith('</MPD>')).toBe(true);
    // A static MPD needs no clock.
    expect(renderMpd({ ...live, type: 'static', timeUrl: '/time' })).not.toContain('UTCTiming');
  });

  it('writes t again after a gap in the timeline', () => {
    const gap = { ...live, periods: [{ ...period('sessiona1', startSeconds, 0) }] };
    gap.periods[0]!.adaptationSets[0]!.representations[0]!.segments = [
      { time: 0, duration: 2000 },
      { time: 6000, duration: 2000 },
    ];
    expect(renderMpd(gap)).toContain('<S t="0" d="2000"/>\n<S t="6000" d="2000"/>');
  });
});

describe('summarizeMpd', () => {
  it.each([
    { name: 'a live MPD', text: '<?xml version="1.0"?>\n<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic" maxSegmentDuration="PT2.002S">', expected: { ended: false, targetDuration: 3 } },
    { name: 'an ended MPD', text: '<MPD type="static" maxSegmentDuration="PT2S" minBufferTime="PT4S">', expected: { ended: true, targetDuration: 2 } },
    { name: 'minutes and hours', text: '<MPD type="dynamic" maxSegmentDuration="PT1H1M0.5S">', expected: { ended: false, targetDuration: 3661 } },
    { name: 'no maxSegmentDuration', text: '<MPD type="dynamic">', expected: { ended: false, targetDuration: undefined } },
    { name: 'a malformed duration', text: '<MPD type="dynamic" maxSegmentDuration="2 s">', expected: { ended: false, targetDuration: undefined } },
    { name: 'type="static" on a Period only', text: '<MPD type="dynamic"><Period type="static">', expected: { ended: false, targetDuration: undefined } },
    { name: 'not an MPD', text: 'hello', expected: { ended: false, targetDuration: undefined } },
  ])('$name', ({ text, expected }) => {
    expect(summarizeMpd(text)).toEqual(expected);
  });
});

describe('parseMpd', () => {
  it('reads back what renderMpd wrote: live, ended on the wall clock, a recording from zero', () => {
    const withClock = { ...live, timeUrl: '/time?x=1&y="2"' };
    expect(parseMpd(renderMpd(withClock))).toEqual(withClock);
    // Static MPDs carry no update period, buffer depth, presentation delay or clock.
    const ended = { ...live, type: 'static' as const, minimumUpdatePeriod: 0, timeShiftBufferDepth: 0, suggestedPresentationDelay: 0 };
    expect(parseMpd(renderMpd(ended))).toEqual(ended);
    const recording = { ...ended, timeline: 'first-period' as const, periods: ended.periods.map((p) => ({ ...p, start: p.start - startSeconds })) };
    expect(parseMpd(renderMpd(recording))).toEqual(recording);
  });

  it('reads back any timeline of segments, gaps and repeats included', () => {
    const segmentRuns = fc.array(fc.record({ gap: fc.nat({ max: 5000 }), duration: fc.integer({ min: 1, max: 200_000 }), count: fc.integer({ min: 1, max: 4 }) }), { minLength: 1, maxLength: 8 });
    fc.assert(
      fc.property(fc.nat({ max: 2 ** 40 }), segmentRuns, (start, runs) => {
        let time = start;
        const segments: { time: number; duration: number }[] = [];
        for (const run of runs) {
          time += run.gap;
          for (let i = 0; i < run.count; i++) {
            segments.push({ time, duration: run.duration });
            time += run.duration;
          }
        }
        const manifest = { ...live, periods: [period('sessiona1', startSeconds, 0)] };
        manifest.periods[0]!.adaptationSets[0]!.representations[0]!.segments = segments;
        expect(parseMpd(renderMpd(manifest)).periods[0]!.adaptationSets[0]!.representations[0]!.segments).toEqual(segments);
      }),
    );
  });

  it.each([
    { name: 'not XML', text: 'hello' },
    { name: 'an unknown type', text: '<MPD type="weird" publishTime="2026-11-24T12:00:00Z"></MPD>' },
    { name: 'a Period outside an MPD', text: '<Period id="a" start="PT0S">' },
    { name: 'a first S without t', text: renderMpd(live).replace('<S t="0" d="2000" r="2"/>', '<S d="2000"/>') },
    { name: 'a bandwidth that is no number', text: renderMpd(live).replace('bandwidth="900000"', 'bandwidth="lots"') },
  ])('refuses $name with an MpdParseError', ({ text }) => {
    expect(() => parseMpd(text)).toThrow(MpdParseError);
  });
});
