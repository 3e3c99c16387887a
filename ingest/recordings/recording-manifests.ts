/**
 * A recording's documents from what it recorded, pure: its stored JSON document, its VOD HLS
 * playlists (multivariant + one media playlist per rendition, PLAYLIST-TYPE VOD, ENDLIST) and its
 * static DASH MPD. The manifests reference the stream's own segments by the same relative names
 * as the live playlists (the edge serves a recording's `REND/FILE` from the stream's `REND/FILE`):
 * nothing is copied or re-encoded.
 */
import type { DashManifest } from '../../shared/dash/mpd.ts';
import { targetDurationFor, type MediaPlaylist } from '../../shared/hls/media-playlist.ts';
import type { MultivariantPlaylist } from '../../shared/hls/multivariant-playlist.ts';
import type { RecordingDocument, RecordingRendition, RecordingState } from '../../shared/recordings/recording-document.ts';
import { initSegmentFile, mediaSegmentFile, streamObjectKey } from '../../shared/storage/layout.ts';
import type { CmafTrack } from '../package/cmaf-track.ts';
import { buildDashManifest } from '../publish/dash-manifest.ts';
import { buildMultivariantPlaylist, type RenditionSummary } from '../publish/stream-manifests.ts';

/** One stored segment of a rendition, as the recording keeps it. */
export interface RecordedSegment {
  session: string;
  /** The session whose init segment it decodes with. */
  initSession: string;
  /** Media time of its first sample and its duration, track timescale. */
  time: number;
  ticks: number;
  /** Seconds. */
  duration: number;
  bytes: number;
  /** Ingest wall clock of its first sample, epoch ms. */
  programDateTime: number;
  /** Its media is not stored (lost in a storage outage): listed as EXT-X-GAP, left out of the document and the MPD. */
  gap?: boolean;
}

export interface RecordedRendition extends RenditionSummary {
  /** The track of each session (from its stored init segment). */
  tracks: ReadonlyMap<string, CmafTrack>;
  /** Bytes of each session's stored init segment. */
  initBytes: ReadonlyMap<string, number>;
  segments: readonly RecordedSegment[];
}

export interface RecordingFacts {
  playbackId: string;
  recordingId: string;
  state: RecordingState;
  /** Epoch ms. */
  startedAt: number;
  endedAt?: number;
  expiresAt?: number;
}

/** Renditions with something recorded and a known track: what the manifests list (a gap never comes first, nor last). */
function listed(renditions: readonly RecordedRendition[]): RecordedRendition[] {
  return renditions
    .map((rendition) => ({ ...rendition, segments: withoutTrailingGaps(rendition.segments) }))
    .filter((rendition) => rendition.segments.length > 0 && rendition.tracks.has(rendition.segments[0]!.initSession));
}

function withoutTrailingGaps(segments: readonly RecordedSegment[]): readonly RecordedSegment[] {
  let end = segments.length;
  while (end > 0 && segments[end - 1]!.gap) end -= 1;
  return end === segments.length ? segments : segments.slice(0, end);
}

export function buildRecordingDocument(facts: RecordingFacts, renditions: readonly RecordedRendition[]): RecordingDocument {
  const { playbackId } = facts;
  let bytes = 0;
  let durationSeconds = 0;
  const documented: RecordingRendition[] = listed(renditions).map(({ rendition, tracks, initBytes, segments, stats }) => {
    const initKey = (session: string) => streamObjectKey(playbackId, { kind: 'init', rendition: rendition.name, session });
    const first = segments[0]!;
    const track = tracks.get(first.initSession)!;
    const media = segments.filter((segment) => !segment.gap);
    const inits = new Set(media.map((segment) => segment.initSession));
    for (const session of inits) bytes += initBytes.get(session) ?? 0;
    let seconds = 0;
    const listedSegments = media.map((segment) => {
      bytes += segment.bytes;
      seconds += segment.duration;
      return {
        key: streamObjectKey(playbackId, { kind: 'segment', rendition: rendition.name, session: segment.session, time: segment.time }),
        durationSeconds: round3(segment.duration),
        bytes: segment.bytes,
        ...(segment.initSession === first.initSession ? {} : { initKey: initKey(segment.initSession) }),
      };
    });
    durationSeconds = Math.max(durationSeconds, seconds);
    return {
      name: rendition.name,
      kind: rendition.kind,
      codecs: track.codec,
      ...(track.width ? { width: track.width } : {}),
      ...(track.height ? { height: track.height } : {}),
      bandwidth: Math.round(stats.peakBitsPerSecond),
      initKey: initKey(first.initSession),
      segments: listedSegments,
    };
  });
  return {
    version: 1,
    playbackId,
    recordingId: facts.recordingId,
    state: facts.state,
    startedAt: new Date(facts.startedAt).toISOString(),
    ...(facts.endedAt !== undefined ? { endedAt: new Date(facts.endedAt).toISOString() } : {}),
    ...(facts.expiresAt !== undefined ? { expiresAt: new Date(facts.expiresAt).toISOString() } : {}),
    durationSeconds: round3(durationSeconds),
    bytes,
    renditions: documented,
  };
}

/** One rendition's VOD media playlist: every recorded segment, a discontinuity where a new session starts. */
export function buildRecordingMediaPlaylist(rendition: RecordedRendition, nominalTargetSeconds: number): MediaPlaylist {
  const segments = withoutTrailingGaps(rendition.segments).map((segment, index) => ({
    uri: mediaSegmentFile(segment.session, segment.time),
    duration: segment.duration,
    initUri: initSegmentFile(segment.initSession),
    programDateTime: segment.programDateTime,
    discontinuity: index > 0 && rendition.segments[index - 1]!.session !== segment.session,
    ...(segment.gap ? { gap: true } : {}),
  }));
  return { targetDuration: targetDurationFor(nominalTargetSeconds, segments), mediaSequence: 0, discontinuitySequence: 0, segments, ended: true, playlistType: 'VOD' };
}

/** The recording's multivariant playlist: its renditions' media playlists beside it (`REND/index.m3u8`). */
export function buildRecordingMultivariant(renditions: readonly RecordedRendition[]): MultivariantPlaylist {
  return buildMultivariantPlaylist(listed(renditions));
}

/** The recording's static MPD: one Period per session, segments addressed by time as in the live MPD. */
export function buildRecordingMpd(renditions: readonly RecordedRendition[], options: { sessionClocks: ReadonlyMap<string, number>; now: number; nominalTargetSeconds: number }): DashManifest {
  const recorded = listed(renditions);
  const targetDuration = Math.max(Math.ceil(options.nominalTargetSeconds), ...recorded.map((rendition) => buildRecordingMediaPlaylist(rendition, options.nominalTargetSeconds).targetDuration));
  return buildDashManifest(
    recorded.map(({ rendition, stats, tracks, segments }) => ({
      name: rendition.name,
      kind: rendition.kind,
      bandwidth: stats.peakBitsPerSecond,
      frameRate: rendition.kind === 'video' ? stats.framesPerSecond : undefined,
      tracks,
      segments: segments.filter((segment) => segment.ticks > 0 && !segment.gap),
    })),
    { sessionClocks: options.sessionClocks, ended: true, timeline: 'first-period', now: options.now, targetDuration, windowSeconds: 0 },
  );
}

function round3(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

/** A recording taken up from storage after a crash or a takeover (recording-resume.ts): what it held so far. */
export interface ResumedRecording {
  recordingId: string;
  /** Epoch ms. */
  startedAt: number;
  renditions: Map<string, { segments: RecordedSegment[]; initBytes: Map<string, number>; tracks: Map<string, CmafTrack> }>;
}
