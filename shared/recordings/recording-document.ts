/**
 * A recording: one broadcast of a stream (first connect until its reconnect window passed), kept
 * as the CMAF it was streamed with. The sidecar stores one small JSON document per recording in
 * the stream's prefix; the edge reads it (recordings API, MP4 download) and trusts nothing in it:
 * every field is validated, and every key must be an init or media segment of the same stream.
 *
 *   streams/ID/recordings/RID/recording.json    this document
 *   streams/ID/recordings/RID/index.m3u8        VOD multivariant playlist (written once ready)
 *   streams/ID/recordings/RID/REND/index.m3u8   VOD media playlist of rendition REND
 *   streams/ID/recordings/RID/manifest.mpd      static DASH MPD
 *
 * The media itself is not copied: the playlists and the document name the stream's own objects
 * (`streams/ID/REND/init-SESSION.mp4`, `streams/ID/REND/SESSION-T.m4s`).
 */
import { isPlaybackId, isRenditionName } from '../playback-id.ts';
import { parseStreamObjectKey, streamPrefix } from '../storage/layout.ts';

export const RECORDINGS_FOLDER = 'recordings/';
export const RECORDING_DOCUMENT_FILE = 'recording.json';

/** `r` + start time in base 36 + randomness: unique, and sorts by start time. */
export const RECORDING_ID_PATTERN = /^r[0-9a-z]{8,31}$/;

/** Why an id is refused (the edge's 400s say it). */
export const INVALID_RECORDING_ID = 'invalid recording id: "r" and 8 to 31 lowercase letters or digits';

export type RecordingState = 'recording' | 'ready';

export interface RecordingSegment {
  /** Storage key of the media segment (`streams/ID/REND/SESSION-T.m4s`). */
  key: string;
  durationSeconds: number;
  bytes: number;
  /**
   * The init segment this segment decodes with, when it is not the rendition's `initKey`: a
   * publisher that reconnected within the window (or a restarted encoder) starts a new session
   * with an init segment of its own. Absent: the rendition's `initKey`.
   */
  initKey?: string;
}

export interface RecordingRendition {
  name: string;
  kind: 'video' | 'audio';
  /** RFC 6381 codec string (`avc1.64001f`, `mp4a.40.2`). */
  codecs: string;
  width?: number;
  height?: number;
  /** Peak bits per second. */
  bandwidth: number;
  /** Storage key of the init segment of its first session (`streams/ID/REND/init-SESSION.mp4`). */
  initKey: string;
  /** In play order. */
  segments: RecordingSegment[];
}

export interface RecordingDocument {
  version: 1;
  playbackId: string;
  recordingId: string;
  /** `recording`: the broadcast goes on (or waits for its publisher); `ready`: complete, its playlists are written. */
  state: RecordingState;
  /** ISO 8601. */
  startedAt: string;
  /** ISO 8601; set once ready. */
  endedAt?: string;
  /** ISO 8601: the recording (documents and media) is deleted after this. Absent: kept until deleted. */
  expiresAt?: string;
  /** Of the longest rendition. */
  durationSeconds: number;
  /** Media bytes of every rendition together (init segments included). */
  bytes: number;
  renditions: RecordingRendition[];
}

export function isRecordingId(value: string): boolean {
  return RECORDING_ID_PATTERN.test(value);
}

/** A new recording id for a broadcast that starts at `now` (epoch ms). */
export function newRecordingId(now: number): string {
  const random = crypto.getRandomValues(new Uint8Array(6));
  const suffix = [...random].map((byte) => (byte % 36).toString(36)).join('');
  return `r${Math.floor(now).toString(36).padStart(9, '0')}${suffix}`;
}

/** `streams/ID/recordings/`: where a stream's recordings are, one folder each. */
export function recordingsPrefix(playbackId: string): string {
  return `${streamPrefix(playbackId)}${RECORDINGS_FOLDER}`;
}

/** `streams/ID/recordings/RID/`. */
export function recordingPrefix(playbackId: string, recordingId: string): string {
  if (!isRecordingId(recordingId)) throw new Error(`invalid recording id: ${JSON.stringify(recordingId)}`);
  return `${recordingsPrefix(playbackId)}${recordingId}/`;
}

/** The storage key of a recording's document. */
export function recordingDocumentKey(playbackId: string, recordingId: string): string {
  return recordingPrefix(playbackId, recordingId) + RECORDING_DOCUMENT_FILE;
}

export type ParsedRecording = { ok: true; recording: RecordingDocument } | { ok: false; reason: string };

const MAX_SEGMENTS = 1_000_000;

/**
 * The document, validated field by field, or the reason it is not one. Every key must be an init
 * (initKey) or media segment (segments) key inside the document's own stream prefix, so a reader
 * following it never reads another stream's objects or anything else.
 */
export function parseRecordingDocument(value: unknown): ParsedRecording {
  if (!isObject(value)) return fail('not a JSON object');
  if (value.version !== 1) return fail(`unknown version ${JSON.stringify(value.version)}`);
  const { playbackId, recordingId } = value;
  if (typeof playbackId !== 'string' || !isPlaybackId(playbackId)) return fail('playbackId is not a playback id');
  if (typeof recordingId !== 'string' || !isRecordingId(recordingId)) return fail('recordingId is not a recording id');
  if (value.state !== 'recording' && value.state !== 'ready') return fail(`unknown state ${JSON.stringify(value.state)}`);
  if (!isTimestamp(value.startedAt)) return fail('startedAt is not an ISO 8601 time');
  if (value.endedAt !== undefined && !isTimestamp(value.endedAt)) return fail('endedAt is not an ISO 8601 time');
  if (value.state === 'ready' && value.endedAt === undefined) return fail('a ready recording has no endedAt');
  if (value.expiresAt !== undefined && !isTimestamp(value.expiresAt)) return fail('expiresAt is not an ISO 8601 time');
  if (!isCount(value.durationSeconds, false)) return fail('durationSeconds is not a non-negative number');
  if (!isCount(value.bytes, true)) return fail('bytes is not a non-negative integer');
  if (!Array.isArray(value.renditions)) return fail('renditions is not a list');
  const names = new Set<string>();
  for (const [index, rendition] of value.renditions.entries()) {
    const reason = renditionProblem(rendition, playbackId, names);
    if (reason) return fail(`renditions[${index}]: ${reason}`);
  }
  return { ok: true, recording: value as unknown as RecordingDocument };
}

function renditionProblem(value: unknown, playbackId: string, names: Set<string>): string | undefined {
  if (!isObject(value)) return 'not an object';
  if (typeof value.name !== 'string' || !isRenditionName(value.name)) return 'name is not a rendition name';
  if (names.has(value.name)) return `rendition ${value.name} is listed twice`;
  names.add(value.name);
  if (value.kind !== 'video' && value.kind !== 'audio') return `unknown kind ${JSON.stringify(value.kind)}`;
  if (typeof value.codecs !== 'string' || !/^[A-Za-z0-9.,_ -]{1,100}$/.test(value.codecs)) return 'codecs is not a codec string';
  for (const field of ['width', 'height'] as const) {
    if (value[field] !== undefined && !(Number.isInteger(value[field]) && (value[field] as number) > 0 && (value[field] as number) <= 16384)) return `${field} is not a picture size`;
  }
  if (!isCount(value.bandwidth, false)) return 'bandwidth is not a non-negative number';
  const rendition = value.name;
  if (!isMediaKey(value.initKey, playbackId, rendition, 'init')) return 'initKey is not an init segment of this stream and rendition';
  if (!Array.isArray(value.segments) || value.segments.length > MAX_SEGMENTS) return 'segments is not a list';
  for (const [index, segment] of value.segments.entries()) {
    if (!isObject(segment)) return `segments[${index}] is not an object`;
    if (!isMediaKey(segment.key, playbackId, rendition, 'segment')) return `segments[${index}].key is not a media segment of this stream and rendition`;
    if (segment.initKey !== undefined && !isMediaKey(segment.initKey, playbackId, rendition, 'init')) return `segments[${index}].initKey is not an init segment of this stream and rendition`;
    if (!isCount(segment.durationSeconds, false)) return `segments[${index}].durationSeconds is not a non-negative number`;
    if (!isCount(segment.bytes, true)) return `segments[${index}].bytes is not a non-negative integer`;
  }
  return undefined;
}

function isMediaKey(key: unknown, playbackId: string, rendition: string, kind: 'init' | 'segment'): boolean {
  if (typeof key !== 'string') return false;
  const parsed = parseStreamObjectKey(key);
  return parsed !== null && parsed.playbackId === playbackId && parsed.ref.kind === kind && parsed.ref.rendition === rendition;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isTimestamp(value: unknown): boolean {
  return typeof value === 'string' && value.length <= 40 && /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value));
}

function isCount(value: unknown, integer: boolean): boolean {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 && (!integer || Number.isSafeInteger(value));
}

function fail(reason: string): ParsedRecording {
  return { ok: false, reason };
}
