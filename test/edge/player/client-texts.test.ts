import { describe, expect, it } from 'vitest';
import { parsePlayerChoice, readPlayerPageConfig } from '../../../edge/player/client/config.ts';
import { bufferedAhead, watchedStep, type Ranges } from '../../../edge/player/client/playhead.ts';
import {
  formatDuration,
  isRefusal,
  networkTroubleText,
  playbackFailedText,
  refusalReason,
  refusalText,
  renditionLabel,
  statsText,
  watchedText,
} from '../../../edge/player/client/texts.ts';

describe('player page texts', () => {
  it.each([
    { seconds: 0, expected: '0.0 s' },
    { seconds: 42.34, expected: '42.3 s' },
    { seconds: 59.96, expected: '60.0 s' },
    { seconds: 60, expected: '1 min 00 s' },
    { seconds: 187.9, expected: '3 min 07 s' },
    { seconds: 3725, expected: '62 min 05 s' },
  ])('formats $seconds s watched as "$expected"', ({ seconds, expected }) => {
    expect(formatDuration(seconds)).toBe(expected);
  });

  it('says what is playing and for how long', () => {
    expect(watchedText(12.25)).toBe('Playing · watched 12.3 s');
  });

  it.each([
    { name: 'everything known', stats: { height: 720, auto: true, buffer: 1.84, latency: 1.449, lowLatency: true }, expected: '720p (auto) · buffer 1.8 s · 1.4 s behind live · low latency' },
    { name: 'a chosen rendition', stats: { height: 360, auto: false, buffer: 0, latency: 3.05, lowLatency: false }, expected: '360p · buffer 0.0 s · 3.0 s behind live' },
    { name: 'height and latency unknown', stats: { height: NaN, auto: true, buffer: 2, latency: NaN, lowLatency: false }, expected: 'buffer 2.0 s' },
  ])('writes the stats line with $name', ({ stats, expected }) => {
    expect(statsText(stats)).toBe(expected);
  });

  it('labels a rendition of the quality menu by height and kb/s', () => {
    expect(renditionLabel(1080, 5_499_600)).toBe('1080p · 5500 kb/s');
  });
});

describe('player page errors', () => {
  it('takes 401 and 403 as refusals, nothing else', () => {
    expect([401, 403, 400, 404, 500, undefined].filter(isRefusal)).toEqual([401, 403]);
  });

  it.each([
    { body: { error: 'token expired' }, expected: 'token expired' },
    { body: { error: 42 }, expected: '' },
    { body: null, expected: '' },
    { body: 'Forbidden', expected: '' },
  ])('reads the reason of a refusal from $body', ({ body, expected }) => {
    expect(refusalReason(body)).toBe(expected);
  });

  it.each([
    { status: 401 as const, reason: 'missing token', expected: "The edge refused this stream (401 Unauthorized): missing token. A signed stream plays with its token in the page's address: ?token=…" },
    { status: 401 as const, reason: '', expected: "The edge refused this stream (401 Unauthorized). A signed stream plays with its token in the page's address: ?token=…" },
    { status: 403 as const, reason: 'token expired', expected: 'The edge refused this stream (403 Forbidden): token expired' },
    { status: 403 as const, reason: '', expected: 'The edge refused this stream (403 Forbidden)' },
  ])('explains a $status refusal (reason "$reason")', ({ status, reason, expected }) => {
    expect(refusalText(status, reason)).toBe(expected);
  });

  it('says what failed and, when known, why', () => {
    expect(playbackFailedText('mediaError / bufferAppendError', 'quota')).toBe('Playback failed: mediaError / bufferAppendError (quota)');
    expect(playbackFailedText('networkError / fragLoadError')).toBe('Playback failed: networkError / fragLoadError');
    expect(networkTroubleText('levelLoadTimeOut')).toBe('Network trouble (levelLoadTimeOut); retrying…');
  });
});

describe('player page query and config', () => {
  it.each([
    { query: '', expected: { ok: true, format: 'hls', player: 'hls.js' } },
    { query: 'format=dash', expected: { ok: true, format: 'dash', player: 'dash.js' } },
    { query: 'player=shaka', expected: { ok: true, format: 'hls', player: 'shaka' } },
    { query: 'format=dash&player=shaka&token=1.a', expected: { ok: true, format: 'dash', player: 'shaka' } },
    { query: 'format=flash', expected: { ok: false, reason: 'format must be hls or dash' } },
    { query: 'player=vlc', expected: { ok: false, reason: 'player must be shaka (or absent: hls.js plays HLS, dash.js DASH)' } },
    { query: 'player=', expected: { ok: false, reason: 'player must be shaka (or absent: hls.js plays HLS, dash.js DASH)' } },
  ])('reads "?$query" as $expected', ({ query, expected }) => {
    expect(parsePlayerChoice(new URLSearchParams(query))).toEqual(expected);
  });

  it('reads back the config the page carries, and refuses anything else', () => {
    const config = { format: 'hls', player: 'shaka', manifestUrl: '/live/a/index.m3u8', statusUrl: '/live/a/status.json' };
    expect(readPlayerPageConfig(JSON.parse(JSON.stringify(config)))).toEqual(config);
    expect(() => readPlayerPageConfig(null)).toThrow(/not an object/);
    expect(() => readPlayerPageConfig({ ...config, player: 'flash' })).toThrow(/player flash/);
    expect(() => readPlayerPageConfig({ ...config, format: 'mp4' })).toThrow(/format mp4/);
    expect(() => readPlayerPageConfig({ ...config, statusUrl: undefined })).toThrow(/URLs/);
  });
});

describe('player page playhead', () => {
  const ranges = (...spans: [number, number][]): Ranges => ({ length: spans.length, start: (i) => spans[i]![0], end: (i) => spans[i]![1] });

  it.each([
    { name: 'inside a range', spans: [[0, 4], [10, 20]] as [number, number][], at: 12, expected: 8 },
    { name: 'just before a range (within 0.1 s)', spans: [[10, 20]] as [number, number][], at: 9.95, expected: 10.05 },
    { name: 'in a gap', spans: [[0, 4], [10, 20]] as [number, number][], at: 6, expected: 0 },
    { name: 'with nothing buffered', spans: [] as [number, number][], at: 3, expected: 0 },
  ])('counts what is buffered ahead $name', ({ spans, at, expected }) => {
    expect(bufferedAhead(ranges(...spans), at)).toBeCloseTo(expected, 6);
  });

  it.each([
    { name: 'a step of playback', step: 0.25, paused: false, seeking: false, expected: 0.25 },
    { name: 'a jump to live', step: 7, paused: false, seeking: false, expected: 0 },
    { name: 'a step back', step: -0.5, paused: false, seeking: false, expected: 0 },
    { name: 'the first update (no previous playhead)', step: NaN, paused: false, seeking: false, expected: 0 },
    { name: 'a step while paused', step: 0.25, paused: true, seeking: false, expected: 0 },
    { name: 'a step while seeking', step: 0.25, paused: false, seeking: true, expected: 0 },
  ])('counts $name as $expected s watched', ({ step, paused, seeking, expected }) => {
    expect(watchedStep(step, { paused, seeking })).toBe(expected);
  });
});
