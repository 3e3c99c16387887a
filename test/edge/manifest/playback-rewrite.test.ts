import { describe, expect, it } from 'vitest';
import { parseMediaPlaylist, renderMediaPlaylist, type MediaPlaylist } from '../../../shared/hls/media-playlist.ts';
import { parseMultivariantPlaylist, renderMultivariantPlaylist, type MultivariantPlaylist } from '../../../shared/hls/multivariant-playlist.ts';
import { parsePlaybackQuery, rewriteMediaPlaylist, rewriteMpd, rewriteMultivariant, withParameters } from '../../../edge/manifest/playback-rewrite.ts';
import { renderMpd } from '../../../shared/dash/mpd.ts';
import { parse as parseMpd } from 'mpd-parser';
import { parseM3u8 } from '../../helpers/m3u8.ts';

const ladder: MultivariantPlaylist = {
  audio: [{ groupId: 'audio', name: 'audio', uri: 'audio/index.m3u8', channels: 2, isDefault: true }],
  variants: [
    { uri: 'source/index.m3u8', bandwidth: 5_500_000, averageBandwidth: 5_000_000, codecs: ['avc1.640028', 'mp4a.40.2'], resolution: { width: 1920, height: 1080 }, frameRate: 30, audioGroupId: 'audio' },
    { uri: '720p/index.m3u8', bandwidth: 3_000_000, codecs: ['avc1.64001f', 'mp4a.40.2'], resolution: { width: 1280, height: 720 }, frameRate: 30, audioGroupId: 'audio' },
    { uri: '360p/index.m3u8', bandwidth: 900_000, codecs: ['avc1.64001e', 'mp4a.40.2'], resolution: { width: 640, height: 360 }, frameRate: 30, audioGroupId: 'audio' },
  ],
};

const START = Date.parse('2026-11-24T12:00:00Z');
const live: MediaPlaylist = {
  targetDuration: 2,
  mediaSequence: 40,
  discontinuitySequence: 1,
  ended: false,
  segments: Array.from({ length: 10 }, (_, i) => ({
    uri: `${i < 4 ? 'sessa1' : 'sessb2'}-${i * 32000}.m4s`,
    duration: 2,
    initUri: i < 4 ? 'init-sessa1.mp4' : 'init-sessb2.mp4',
    programDateTime: START + i * 2000,
    ...(i === 4 || i === 1 ? { discontinuity: true } : {}),
  })),
};

const query = (text: string) => {
  const parsed = parsePlaybackQuery(new URLSearchParams(text));
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.query;
};

describe('playback query', () => {
  it('reads token, max_height and dvr, and leaves other parameters alone', () => {
    expect(query('token=123.abc_-&max_height=720&dvr=30&_=cachebuster')).toEqual({ token: '123.abc_-', maxHeight: 720, dvrSeconds: 30 });
    expect(query('')).toEqual({});
  });

  it.each([
    ['max_height=abc', /max_height/],
    ['max_height=0', /from 1 to 4320/],
    ['max_height=720.5', /whole number/],
    ['dvr=-5', /dvr/],
    ['dvr=1e9', /dvr/],
    ['token=<script>', /token/],
    ['token=a&token=b', /once/],
  ])('refuses %s with a reason', (text, reason) => {
    const parsed = parsePlaybackQuery(new URLSearchParams(text));
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toMatch(reason);
  });

  it('appends parameters after any the URI has', () => {
    expect(withParameters('a.m4s', [['token', 't']])).toBe('a.m4s?token=t');
    expect(withParameters('a.m4s?x=1', [['token', 't']])).toBe('a.m4s?x=1&token=t');
    expect(withParameters('a.m4s', [])).toBe('a.m4s');
  });
});

describe('multivariant rewriting', () => {
  it('filters variants by height, keeps the audio group, and carries the token and DVR window to every child', () => {
    const rewritten = rewriteMultivariant(ladder, query('token=t1&max_height=720&dvr=20'));
    const parsed = parseM3u8(renderMultivariantPlaylist(rewritten));
    expect(parsed.playlists!.map((p) => p.uri)).toEqual(['720p/index.m3u8?token=t1&dvr=20', '360p/index.m3u8?token=t1&dvr=20']);
    expect(parsed.mediaGroups!.AUDIO!.audio!.audio!.uri).toBe('audio/index.m3u8?token=t1&dvr=20');
    expect(parsed.playlists![0]!.attributes.AUDIO).toBe('audio');
  });

  it('keeps the shortest variant when none is short enough', () => {
    expect(rewriteMultivariant(ladder, query('max_height=144')).variants.map((v) => v.uri)).toEqual(['360p/index.m3u8']);
  });

  it('round-trips through its parser', () => {
    expect(parseMultivariantPlaylist(renderMultivariantPlaylist(ladder))).toEqual(ladder);
  });
});

describe('media playlist rewriting', () => {
  const rewrite = (playlist: MediaPlaylist, text: string, options = {}) => parseMediaPlaylist(rewriteMediaPlaylist(renderMediaPlaylist(playlist), query(text), options));

  it('trims a live playlist to the DVR window, keeping numbering and discontinuity count right', () => {
    const trimmed = rewrite(live, 'dvr=8');
    expect(trimmed.segments).toEqual(live.segments.slice(6));
    expect(trimmed.mediaSequence).toBe(46);
    // Two discontinuities (before segments 1 and 4) left with the trimmed part.
    expect(trimmed.discontinuitySequence).toBe(3);
    const parsed = parseM3u8(rewriteMediaPlaylist(renderMediaPlaylist(live), query('dvr=8')));
    expect(parsed.mediaSequence).toBe(46);
    expect(parsed.discontinuitySequence).toBe(3);
    // The first segment left carries its init segment, though its EXT-X-MAP was on an earlier one.
    expect(parsed.segments[0]!.map?.uri).toBe('init-sessb2.mp4');
  });

  it('never trims below three segments, and leaves a playlist alone when nothing is asked', () => {
    expect(rewrite(live, 'dvr=1').segments).toHaveLength(3);
    const text = renderMediaPlaylist(live);
    expect(rewriteMediaPlaylist(text, {})).toBe(text);
  });

  it('serves an ended stream as VOD, whole, whatever DVR window is asked', () => {
    const text = rewriteMediaPlaylist(renderMediaPlaylist({ ...live, ended: true }), query('dvr=4'));
    expect(parseMediaPlaylist(text).segments).toHaveLength(10);
    expect(text).toContain('#EXT-X-PLAYLIST-TYPE:VOD');
    expect(parseM3u8(text).playlistType).toBe('VOD');
    expect(parseMediaPlaylist(text).playlistType).toBe('VOD');
  });

  it('points segments and init segments at a CDN base URL, with the token', () => {
    const parsed = parseM3u8(rewriteMediaPlaylist(renderMediaPlaylist(live), query('token=t2'), { segmentBaseUrl: 'https://cdn.example/live/abc/source/' }));
    expect(parsed.segments[0]!.uri).toBe('https://cdn.example/live/abc/source/sessa1-0.m4s?token=t2');
    expect(parsed.segments[0]!.map?.uri).toBe('https://cdn.example/live/abc/source/init-sessa1.mp4?token=t2');
    expect(parsed.segments[9]!.map?.uri).toBe('https://cdn.example/live/abc/source/init-sessb2.mp4?token=t2');
  });
});

describe('MPD rewriting', () => {
  const representation = (id: string, height: number) => ({
    id,
    bandwidth: height * 5000,
    codecs: 'avc1.64001f',
    width: Math.round((height * 16) / 9),
    height,
    timescale: 90000,
    presentationTimeOffset: 0,
    initialization: `${id}/init-sessa1.mp4`,
    media: `${id}/sessa1-$Time$.m4s`,
    segments: [0, 1, 2].map((i) => ({ time: i * 180000, duration: 180000 })),
  });
  const mpd = renderMpd({
    type: 'dynamic',
    timeline: 'wall-clock',
    publishTime: START + 6000,
    minimumUpdatePeriod: 2,
    timeShiftBufferDepth: 20,
    suggestedPresentationDelay: 6,
    maxSegmentDuration: 2,
    minBufferTime: 4,
    periods: [{ id: 'sessa1', start: START / 1000, adaptationSets: [{ contentType: 'video', representations: [representation('source', 1080), representation('360p', 360)] }] }],
  });

  it('drops taller representations, carries the token into the templates, and shortens the time-shift window', () => {
    const text = rewriteMpd(mpd, query('token=t3&max_height=720&dvr=10'), { segmentBaseUrl: 'https://cdn.example/live/abc/' });
    const manifest = parseMpd(text, { manifestUri: 'http://edge/live/abc/manifest.mpd', NOW: START + 6000 });
    expect(manifest.playlists.map((p) => p.attributes.NAME)).toEqual(['360p']);
    expect(manifest.playlists[0]!.segments[0]!.resolvedUri).toBe('https://cdn.example/live/abc/360p/sessa1-0.m4s?token=t3');
    expect(manifest.playlists[0]!.segments[0]!.map?.resolvedUri).toBe('https://cdn.example/live/abc/360p/init-sessa1.mp4?token=t3');
    expect(text).toContain('timeShiftBufferDepth="PT10S"');
  });

  it('leaves the MPD as it is when nothing is asked', () => {
    expect(rewriteMpd(mpd, {})).toBe(mpd);
  });
});
