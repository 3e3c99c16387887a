import { describe, expect, it } from 'vitest';
import { buildDashManifest, type RenditionWindow, type WindowSegment } from '../../../ingest/publish/dash-manifest.ts';
import type { CmafTrack } from '../../../ingest/package/cmaf-track.ts';

const START = Date.parse('2026-11-24T12:00:00Z');
const VIDEO_TRACK: CmafTrack = { trackId: 1, kind: 'video', timescale: 16000, codec: 'avc1.64001e', width: 640, height: 360, defaultSampleDuration: 533, defaultSampleFlags: 0 };
const AUDIO_TRACK: CmafTrack = { trackId: 1, kind: 'audio', timescale: 48000, codec: 'mp4a.40.2', sampleRate: 48000, channels: 2, defaultSampleDuration: 1024, defaultSampleFlags: 0 };

/** `count` 2 s segments of a session from segment `from` on, media time from 0 at `clock`. */
function segments(session: string, timescale: number, clock: number, from: number, count: number): WindowSegment[] {
  return Array.from({ length: count }, (_, i) => ({
    session,
    time: (from + i) * 2 * timescale,
    ticks: 2 * timescale,
    programDateTime: clock + (from + i) * 2000,
  }));
}

function renditions(windows: { session: string; clock: number; from: number; count: number }[]): RenditionWindow[] {
  const sessions = new Set(windows.map((w) => w.session));
  return [
    { name: 'source', kind: 'video', bandwidth: 900_000, frameRate: 30, tracks: new Map([...sessions].map((s) => [s, VIDEO_TRACK])), segments: windows.flatMap((w) => segments(w.session, 16000, w.clock, w.from, w.count)) },
    { name: 'audio', kind: 'audio', bandwidth: 130_000, tracks: new Map([...sessions].map((s) => [s, AUDIO_TRACK])), segments: windows.flatMap((w) => segments(w.session, 48000, w.clock, w.from, w.count)) },
  ];
}

const base = { ended: false, timeline: 'wall-clock', now: START + 60_000, targetDuration: 2, windowSeconds: 20 } as const;

describe('buildDashManifest', () => {
  const cases = [
    {
      name: 'a Period starts at its session clock, whatever part of the session the window holds',
      windows: [{ session: 'sessiona1', clock: START, from: 7, count: 3 }],
      clocks: [['sessiona1', START]] as const,
      expected: [{ id: 'sessiona1', start: START / 1000, presentationTimeOffset: [0, 0] }],
    },
    {
      name: 'a reconnect starts a second Period at the new session clock',
      windows: [
        { session: 'sessiona1', clock: START, from: 4, count: 2 },
        { session: 'sessionb2', clock: START + 17_000, from: 0, count: 2 },
      ],
      clocks: [['sessiona1', START], ['sessionb2', START + 17_000]] as const,
      expected: [
        { id: 'sessiona1', start: START / 1000, presentationTimeOffset: [0, 0] },
        { id: 'sessionb2', start: (START + 17_000) / 1000, presentationTimeOffset: [0, 0] },
      ],
    },
    {
      name: "a restarted encoder whose clock says a little earlier starts where the last Period ends, its media time offset to match",
      windows: [
        { session: 'sessiona1', clock: START, from: 0, count: 2 },
        { session: 'sessionb2', clock: START + 3_500, from: 0, count: 2 },
      ],
      clocks: [['sessiona1', START], ['sessionb2', START + 3_500]] as const,
      expected: [
        { id: 'sessiona1', start: START / 1000, presentationTimeOffset: [0, 0] },
        { id: 'sessionb2', start: (START + 4_000) / 1000, presentationTimeOffset: [8000, 24000] },
      ],
    },
    {
      name: 'a session without a known clock is left out',
      windows: [{ session: 'sessiona1', clock: START, from: 0, count: 2 }],
      clocks: [] as const,
      expected: [],
    },
  ];

  it.each(cases)('$name', ({ windows, clocks, expected }) => {
    const manifest = buildDashManifest(renditions(windows), { ...base, sessionClocks: new Map(clocks) });
    expect(
      manifest.periods.map((period) => ({ id: period.id, start: period.start, presentationTimeOffset: period.adaptationSets.map((set) => set.representations[0]!.presentationTimeOffset) })),
    ).toEqual(expected);
  });

  it('keeps every Period start the same as the window slides, version after version', () => {
    const clocks = new Map([['sessiona1', START]]);
    const starts = [0, 1, 2, 3, 10].map((from) => buildDashManifest(renditions([{ session: 'sessiona1', clock: START, from, count: 3 }]), { ...base, sessionClocks: clocks }).periods[0]!.start);
    expect(new Set(starts)).toEqual(new Set([START / 1000]));
  });

  it('addresses each session by $Time$ under its own names, with the segments the window holds', () => {
    const manifest = buildDashManifest(renditions([{ session: 'sessiona1', clock: START, from: 5, count: 3 }]), { ...base, sessionClocks: new Map([['sessiona1', START]]) });
    const [video, audio] = manifest.periods[0]!.adaptationSets;
    expect(video!.contentType).toBe('video');
    expect(video!.representations[0]).toMatchObject({ timescale: 16000, initialization: 'source/init-sessiona1.mp4', media: 'source/sessiona1-$Time$.m4s' });
    expect(video!.representations[0]!.segments).toEqual([160000, 192000, 224000].map((time) => ({ time, duration: 32000 })));
    expect(audio!.contentType).toBe('audio');
    expect(audio!.representations[0]).toMatchObject({ timescale: 48000, media: 'audio/sessiona1-$Time$.m4s', codecs: 'mp4a.40.2', audioSamplingRate: 48000, channels: 2 });
  });

  it('puts every video rendition in one adaptation set, so players can switch between them', () => {
    const windows = renditions([{ session: 'sessiona1', clock: START, from: 0, count: 3 }]);
    const video = windows.find((window) => window.kind === 'video')!;
    const lower = { ...video, name: '360p', bandwidth: video.bandwidth / 3 };
    const manifest = buildDashManifest([video, lower, ...windows.filter((window) => window.kind === 'audio')], { ...base, sessionClocks: new Map([['sessiona1', START]]) });
    const sets = manifest.periods[0]!.adaptationSets;
    expect(sets.map((set) => [set.contentType, set.representations.map((r) => r.id)])).toEqual([
      ['video', ['source', '360p']],
      ['audio', ['audio']],
    ]);
    expect(sets[0]!.representations[1]!.media).toBe('360p/sessiona1-$Time$.m4s');
  });

  it('is dynamic with a refresh period, a presentation delay and the edge clock while live; static once ended', () => {
    const windows = renditions([{ session: 'sessiona1', clock: START, from: 0, count: 3 }]);
    const live = buildDashManifest(windows, { ...base, sessionClocks: new Map([['sessiona1', START]]) });
    expect(live).toMatchObject({ type: 'dynamic', publishTime: base.now, minimumUpdatePeriod: 2, suggestedPresentationDelay: 6, timeShiftBufferDepth: 20, timeUrl: '/time' });
    expect(buildDashManifest(windows, { ...base, ended: true, sessionClocks: new Map([['sessiona1', START]]) }).type).toBe('static');
  });
});
