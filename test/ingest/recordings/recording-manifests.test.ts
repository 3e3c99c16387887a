import { parse as parseMpd } from 'mpd-parser';
import { describe, expect, it } from 'vitest';
import type { CmafTrack } from '../../../ingest/package/cmaf-track.ts';
import { RenditionStats } from '../../../ingest/publish/rendition-stats.ts';
import { buildRecordingDocument, buildRecordingMediaPlaylist, buildRecordingMpd, buildRecordingMultivariant, type RecordedRendition, type RecordedSegment } from '../../../ingest/recordings/recording-manifests.ts';
import { renderMpd } from '../../../shared/dash/mpd.ts';
import { renderMediaPlaylist } from '../../../shared/hls/media-playlist.ts';
import { renderMultivariantPlaylist } from '../../../shared/hls/multivariant-playlist.ts';
import { parseRecordingDocument } from '../../../shared/recordings/recording-document.ts';
import { isGap, parseM3u8 } from '../../helpers/m3u8.ts';

const START = Date.parse('2026-12-06T09:00:00Z');
const VIDEO: CmafTrack = { trackId: 1, kind: 'video', timescale: 90000, codec: 'avc1.64001f', width: 1280, height: 720, defaultSampleDuration: 3000, defaultSampleFlags: 0 };
const AUDIO: CmafTrack = { trackId: 1, kind: 'audio', timescale: 48000, codec: 'mp4a.40.2', sampleRate: 48000, channels: 2, defaultSampleDuration: 1024, defaultSampleFlags: 0 };

/** `count` 2 s segments of a session whose media time zero is at `clock`. */
function segments(session: string, timescale: number, clock: number, count: number, bytes: number): RecordedSegment[] {
  return Array.from({ length: count }, (_, i) => ({ session, initSession: session, time: i * 2 * timescale, ticks: 2 * timescale, duration: 2, bytes, programDateTime: clock + i * 2000 }));
}

function rendition(name: string, track: CmafTrack, sessions: { session: string; clock: number; count: number }[], bytes: number): RecordedRendition {
  const stats = new RenditionStats();
  stats.add(bytes, 2, 60);
  return {
    rendition: track.kind === 'video' ? { name, kind: 'video', encoding: 'copy' } : { name, kind: 'audio', encoding: 'aac', bitrate: 128_000, sampleRate: 48000, channels: 2 },
    track,
    stats,
    tracks: new Map(sessions.map(({ session }) => [session, track])),
    initBytes: new Map(sessions.map(({ session }) => [session, 700])),
    segments: sessions.flatMap(({ session, clock, count }) => segments(session, track.timescale, clock, count, bytes)),
  };
}

// One broadcast: 3 segments, the publisher drops and reconnects within the window, 2 more.
const SESSIONS = [
  { session: 'sessiona1', clock: START, count: 3 },
  { session: 'sessionb2', clock: START + 10_000, count: 2 },
];
const RECORDED = [rendition('source', VIDEO, SESSIONS, 250_000), rendition('audio', AUDIO, SESSIONS, 32_000)];

describe('recording manifests', () => {
  it('a VOD media playlist lists every recorded segment by its stream-relative name, a discontinuity at the reconnect, and ends', () => {
    const text = renderMediaPlaylist(buildRecordingMediaPlaylist(RECORDED[0]!, 2));
    const parsed = parseM3u8(text);
    expect(parsed.playlistType).toBe('VOD');
    expect(parsed.endList).toBe(true);
    expect(parsed.segments.map((segment) => segment.uri)).toEqual(['sessiona1-0.m4s', 'sessiona1-180000.m4s', 'sessiona1-360000.m4s', 'sessionb2-0.m4s', 'sessionb2-180000.m4s']);
    expect(parsed.segments.map((segment) => segment.map?.uri)).toEqual(['init-sessiona1.mp4', 'init-sessiona1.mp4', 'init-sessiona1.mp4', 'init-sessionb2.mp4', 'init-sessionb2.mp4']);
    expect(parsed.segments.map((segment) => segment.discontinuity === true)).toEqual([false, false, false, true, false]);
    expect(parsed.segments.reduce((sum, segment) => sum + segment.duration, 0)).toBeCloseTo(10, 3);
  });

  it('the multivariant playlist offers the video with the audio, each beside it as REND/index.m3u8', () => {
    const parsed = parseM3u8(renderMultivariantPlaylist(buildRecordingMultivariant(RECORDED)));
    expect(parsed.playlists!.map((playlist) => playlist.uri)).toEqual(['source/index.m3u8']);
    expect(parsed.playlists![0]!.attributes.CODECS).toBe('avc1.64001f,mp4a.40.2');
    expect(Object.values(parsed.mediaGroups!.AUDIO!.audio ?? {}).map((audio) => audio.uri)).toEqual(['audio/index.m3u8']);
  });

  it('the MPD is static, one Period per session, the whole recording long, segments by time from the stream', () => {
    const text = renderMpd(buildRecordingMpd(RECORDED, { sessionClocks: new Map(SESSIONS.map(({ session, clock }) => [session, clock])), now: START + 60_000, nominalTargetSeconds: 2 }));
    expect(text).toContain('type="static"');
    // A VOD timeline: the recording starts at 0, whatever the wall clock was.
    expect(text).toMatch(/<Period id="sessiona1" start="PT0S">/);
    const manifest = parseMpd(text, { manifestUri: 'https://edge.example/recordings/abc/r0000000001/manifest.mpd' });
    const video = manifest.playlists.filter((playlist) => playlist.attributes.CODECS === 'avc1.64001f');
    expect(video.flatMap((playlist) => playlist.segments.map((segment) => segment.resolvedUri))).toEqual([
      'https://edge.example/recordings/abc/r0000000001/source/sessiona1-0.m4s',
      'https://edge.example/recordings/abc/r0000000001/source/sessiona1-180000.m4s',
      'https://edge.example/recordings/abc/r0000000001/source/sessiona1-360000.m4s',
      'https://edge.example/recordings/abc/r0000000001/source/sessionb2-0.m4s',
      'https://edge.example/recordings/abc/r0000000001/source/sessionb2-180000.m4s',
    ]);
    // Two Periods: the second session's segments are on a timeline of their own.
    const timelines = video.flatMap((playlist) => playlist.segments.map((segment) => segment.timeline));
    expect(new Set(timelines.slice(0, 3)).size).toBe(1);
    expect(new Set(timelines.slice(3)).size).toBe(1);
    expect(timelines[3]).not.toBe(timelines[0]);
    // 6 s, a 4 s gap while the publisher was away, then 4 s: 14 s from the first Period's start.
    expect(/mediaPresentationDuration="PT(\d+(?:\.\d+)?)S"/.exec(text)?.[1]).toBe('14');
  });

  it('the document names the stream\'s own keys, with sizes and durations, and reads back with the parser the edge uses', () => {
    const document = buildRecordingDocument({ playbackId: 'abc', recordingId: 'r0000000001', state: 'ready', startedAt: START, endedAt: START + 60_000, expiresAt: START + 86_400_000 }, RECORDED);
    const parsed = parseRecordingDocument(JSON.parse(JSON.stringify(document)));
    expect(parsed).toEqual({ ok: true, recording: document });
    expect(document.durationSeconds).toBe(10);
    expect(document.bytes).toBe(5 * 250_000 + 5 * 32_000 + 4 * 700);
    const source = document.renditions.find((r) => r.name === 'source')!;
    expect(source).toMatchObject({ kind: 'video', codecs: 'avc1.64001f', width: 1280, height: 720, initKey: 'streams/abc/source/init-sessiona1.mp4' });
    expect(source.segments[0]).toEqual({ key: 'streams/abc/source/sessiona1-0.m4s', durationSeconds: 2, bytes: 250_000 });
    // After the reconnect, segments decode with their own session's init segment.
    expect(source.segments[3]).toEqual({ key: 'streams/abc/source/sessionb2-0.m4s', durationSeconds: 2, bytes: 250_000, initKey: 'streams/abc/source/init-sessionb2.mp4' });
    expect(document.endedAt).toBe('2026-12-06T09:01:00.000Z');
    expect(document.expiresAt).toBe('2026-12-07T09:00:00.000Z');
  });

  it('media lost in a storage outage keeps its place as EXT-X-GAP in HLS; the document and the MPD list only stored media; a gap never ends it', async () => {
    const source = rendition('source', VIDEO, [{ session: 'sessiona1', clock: START, count: 5 }], 250_000);
    const segments = source.segments.map((segment, index) => (index === 2 || index === 4 ? { ...segment, gap: true, bytes: 0 } : segment));
    const withGaps = { ...source, segments };
    const text = renderMediaPlaylist(buildRecordingMediaPlaylist(withGaps, 2));
    expect(text.match(/#EXT-X-GAP/g)).toHaveLength(1);
    const parsed = parseM3u8(text);
    expect(parsed.segments.map((segment) => segment.uri)).toEqual(['sessiona1-0.m4s', 'sessiona1-180000.m4s', 'sessiona1-360000.m4s', 'sessiona1-540000.m4s']);
    expect(isGap(parsed.segments[2]!)).toBe(true);
    const document = buildRecordingDocument({ playbackId: 'abc', recordingId: 'r0000000001', state: 'ready', startedAt: START, endedAt: START + 10_000 }, [withGaps]);
    expect(document.renditions[0]!.segments.map((segment) => segment.key.split('/').at(-1))).toEqual(['sessiona1-0.m4s', 'sessiona1-180000.m4s', 'sessiona1-540000.m4s']);
    expect(document.bytes).toBe(3 * 250_000 + 700);
    const mpd = parseMpd(renderMpd(buildRecordingMpd([withGaps], { sessionClocks: new Map([['sessiona1', START]]), now: START + 60_000, nominalTargetSeconds: 2 })), { manifestUri: 'https://edge.example/recordings/abc/r0000000001/manifest.mpd' });
    expect(mpd.playlists.flatMap((playlist) => playlist.segments.map((segment) => segment.uri))).toEqual(['source/sessiona1-0.m4s', 'source/sessiona1-180000.m4s', 'source/sessiona1-540000.m4s']);
  });
});
