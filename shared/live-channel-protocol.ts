/**
 * The live channel, as both sides know it: one WebSocket per live stream from the sidecar to the
 * stream's live state at the edge (its Durable Object on Workers, the in-process state on Node
 * and Deno), opened at `GET /_ingest/live/STREAM_ID?sidecar=ID&broadcast=ID[&window=MS]` with the stream's
 * write token as `Authorization: Bearer` (shared/write-api.ts). The open is a lease request: the
 * live state grants the stream to one holder (sidecar + broadcast) for LEASE_TTL_MS, refreshed by
 * every heartbeat, or refuses the channel (close code CLOSE_LEASE_HELD, with the reason).
 *
 * On the channel, in order: parts as binary frames (a small JSON header, then the part's bytes),
 * and control messages as text frames (JSON). Pure encode/decode here; every field is checked
 * as the write API's part headers are, and a frame that fails a check is refused whole.
 *
 * A segment is its parts: right after a segment's last part the sidecar names the segment
 * (`segment`: its part files in order, its byte length), and the live state, holding exactly
 * those parts, writes them end to end to storage under the segment's key and answers `stored`
 * (or `not-stored` with why: the sidecar then uploads the segment over HTTP as before). Media
 * bytes then travel once. An edge from before this message closes the channel on it (an unknown
 * type): the sidecar and the edge ship together.
 *
 * A stream's documents (its playlists, MPD and status) go the same way: a document frame (binary,
 * as a part's, its header naming the document) that the live state writes to storage, in the
 * order they came per document, and answers `written` or `not-written` (the sidecar then PUTs it
 * over HTTP). A new playlist then costs the sidecar and the edge one message, not an HTTP request
 * each: a hundred streams write a few hundred documents a second.
 */
import type { PartAnnouncement } from './low-latency.ts';
import { AUDIO_MP4_TYPE, DASH_MPD_TYPE, HLS_PLAYLIST_TYPE, JSON_TYPE, VIDEO_MP4_TYPE } from './media-types.ts';
import { parseStreamRelativePath, type StreamObjectKind } from './storage/layout.ts';

export const LIVE_CHANNEL_PREFIX = '/_ingest/live/';

/** A lease lives this long after the holder's last heartbeat (or its open). */
export const LEASE_TTL_MS = 6_000;
/** The sidecar's heartbeat: three fit in a lease's life, so one lost message costs nothing. */
export const HEARTBEAT_INTERVAL_MS = 2_000;

/**
 * A dead holder's lease runs out, the segment it was cutting never came, and the new publisher's
 * first seconds are probed before anything is read back: this much on top of the stream's
 * reconnect window still counts as the publisher coming back (a sidecar taking the stream up
 * continues the broadcast: ingest/publish/restore.ts). Past it the broadcast is over: a new
 * publish starts a new one, and the edge ends what the dead holder left live.
 */
export const TAKEOVER_ALLOWANCE_MS = 15_000;
/** The reconnect window of a lease request that names none (a sidecar from before `window`): the sidecar's default. */
export const DEFAULT_RECONNECT_WINDOW_MS = 30_000;
/** The longest reconnect window a lease request may name (the sidecar's --reconnect-window limit). */
const MAX_RECONNECT_WINDOW_MS = 3_600_000;

/** Close codes (4000-4999 are the application's). */
export const CLOSE_LEASE_HELD = 4409;
export const CLOSE_LEASE_EXPIRED = 4408;
export const CLOSE_BAD_FRAME = 4400;
/** The write token the channel was opened with expired: open it again with a new one (the lease is kept meanwhile). */
export const CLOSE_CREDENTIAL_EXPIRED = 4401;
/** The holder released the stream (it ended): a normal close. */
export const CLOSE_RELEASED = 1000;

/** A part, as it travels: what the write API's part headers carried, and where it belongs. */
export interface PartFrame extends PartAnnouncement {
  rendition: string;
  /** `SESSION-T.pN.m4s` */
  file: string;
  contentType: string;
  bytes: Uint8Array;
}

/** Sidecar → edge, text frames. */
export type ClientMessage =
  /** The holder is alive: its lease runs LEASE_TTL_MS from now. */
  | { type: 'heartbeat' }
  /** The stream ended here: the lease is given back at once. */
  | { type: 'release' }
  /**
   * A part that will not come, said in order with the parts: one the sidecar dropped (too old to
   * send), or one a part named as next that the sidecar will not send (storage is behind so the
   * segment's parts are withheld, the run that made it ended). Whoever waits for it gets a 404 now,
   * with `reason`, and it is hinted no more. `reason` is optional: a sidecar from before it sent
   * none, and an edge from before it ignores it (a new message type would close its channel).
   */
  | { type: 'skipped'; rendition: string; file: string; reason?: string }
  /** The segment made of parts just sent: store it from them (answered `stored` or `not-stored`). */
  | SegmentMessage;

/**
 * A segment named by its parts, sent in order right after its last part: `file` is
 * `SESSION-T.m4s`, `parts` its part files `SESSION-T.p0.m4s`, `.p1`, … in order (all of them),
 * `byteLength` their bytes together, `contentType` the parts'.
 */
export interface SegmentMessage {
  type: 'segment';
  rendition: string;
  file: string;
  parts: string[];
  byteLength: number;
  contentType: string;
}

/**
 * A stream document, as it travels: `path` is relative to the stream's prefix (`index.m3u8`,
 * `RENDITION/index.m3u8`, `manifest.mpd`, `status.json`), `id` the sidecar's number for it
 * (echoed in the answer: the same document may be written again before the first is answered).
 */
export interface DocumentFrame {
  id: number;
  path: string;
  contentType: string;
  bytes: Uint8Array;
}

/** Edge → sidecar, text frames. */
export type EdgeMessage =
  | { type: 'lease'; ttlMs: number }
  | { type: 'heartbeat' }
  | { type: 'refused'; reason: string }
  /** The segment is in storage, written from its parts: the sidecar counts it as uploaded. */
  | { type: 'stored'; rendition: string; file: string }
  /** The segment was not written from its parts (`reason`): the sidecar uploads it itself. */
  | { type: 'not-stored'; rendition: string; file: string; reason: string }
  /** The document of this id is in storage. */
  | { type: 'written'; id: number }
  /** The document of this id was not written (`reason`): the sidecar writes it itself. */
  | { type: 'not-written'; id: number; reason: string };

export interface LeaseRequest {
  /** The sidecar process (random per process unless configured). */
  sidecar: string;
  /** One stream's run on that sidecar, from its first publish to its end. */
  broadcast: string;
  /**
   * The stream's reconnect window (milliseconds): how long after its holder is gone a publisher
   * may still continue the broadcast. Unset: DEFAULT_RECONNECT_WINDOW_MS.
   */
  reconnectWindowMs?: number;
  /**
   * Epoch milliseconds at which the credential the channel was opened with expires: the edge
   * closes the channel then (CLOSE_CREDENTIAL_EXPIRED) and the sidecar opens it again with a new
   * write token. Set by the edge from the checked credential, never read from a sidecar's URL.
   * Unset: opened with the ingest secret itself, which does not expire.
   */
  closeAt?: number;
}

const LEASE_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function liveChannelPath(playbackId: string, lease: LeaseRequest): string {
  const window = lease.reconnectWindowMs === undefined ? '' : `&window=${lease.reconnectWindowMs}`;
  return `${LIVE_CHANNEL_PREFIX}${playbackId}?sidecar=${lease.sidecar}&broadcast=${lease.broadcast}${window}`;
}

/** The lease request a channel's URL carries; the reason names what is wrong. */
export function parseLeaseRequest(url: URL): { ok: true; lease: LeaseRequest } | { ok: false; reason: string } {
  const sidecar = url.searchParams.get('sidecar') ?? '';
  const broadcast = url.searchParams.get('broadcast') ?? '';
  if (!LEASE_ID.test(sidecar) || !LEASE_ID.test(broadcast)) return { ok: false, reason: 'a live channel needs ?sidecar=ID&broadcast=ID (1-64 letters, digits, "-" or "_")' };
  const window = url.searchParams.get('window');
  if (window === null) return { ok: true, lease: { sidecar, broadcast } };
  const reconnectWindowMs = Number(window);
  if (!/^\d{1,7}$/.test(window) || reconnectWindowMs > MAX_RECONNECT_WINDOW_MS) return { ok: false, reason: `window is the stream's reconnect window in milliseconds, 0 to ${MAX_RECONNECT_WINDOW_MS}` };
  return { ok: true, lease: { sidecar, broadcast, reconnectWindowMs } };
}

const PART_FRAME = 1;
const DOCUMENT_FRAME = 2;
// Kind byte + header length (u16): a header is names and numbers, far below 64 KiB.
const PREFIX_BYTES = 3;
/** A part is a fraction of a segment: the write API's part limit. */
export const PART_FRAME_MAX_BYTES = 8 * 1024 * 1024;
const CONTENT_TYPES: readonly string[] = [VIDEO_MP4_TYPE, AUDIO_MP4_TYPE];

interface PartHeader {
  rendition: string;
  file: string;
  contentType: string;
  msn: number;
  duration: number;
  independent: boolean;
  next: string;
  partTarget: number;
}

export function encodePartFrame(part: PartFrame): Uint8Array<ArrayBuffer> {
  const header = encodePartHeader(part);
  const frame = new Uint8Array(header.byteLength + part.bytes.byteLength);
  frame.set(header, 0);
  frame.set(part.bytes, header.byteLength);
  return frame;
}

/**
 * A part frame's bytes before the part's own: encodePartFrame(part) is these followed by
 * `part.bytes`. A sender that can send one message in pieces (the sidecar: WebSocket fragments)
 * sends the part's bytes as they are, without copying them into a frame.
 */
export function encodePartHeader(part: Omit<PartFrame, 'bytes'>): Uint8Array<ArrayBuffer> {
  const header: PartHeader = {
    rendition: part.rendition,
    file: part.file,
    contentType: part.contentType,
    msn: part.msn,
    duration: part.duration,
    independent: part.independent,
    next: part.next,
    partTarget: part.partTarget,
  };
  return framePrefix(PART_FRAME, header);
}

/** A binary frame's kind byte, its header's length (u16) and its JSON header. */
function framePrefix(kind: number, header: object): Uint8Array<ArrayBuffer> {
  const json = new TextEncoder().encode(JSON.stringify(header));
  if (json.byteLength > 0xffff) throw new RangeError('frame header longer than 65535 bytes');
  const prefix = new Uint8Array(PREFIX_BYTES + json.byteLength);
  prefix[0] = kind;
  new DataView(prefix.buffer).setUint16(1, json.byteLength);
  prefix.set(json, PREFIX_BYTES);
  return prefix;
}

export type FrameDecode<T> = { ok: true; value: T } | { ok: false; reason: string };

function fail<T>(reason: string): FrameDecode<T> {
  return { ok: false, reason };
}

// Stateless between calls (no streaming): one for every frame.
const HEADER_DECODER = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export interface PartFrameDecodeOptions {
  /**
   * The frame's buffer holds this frame alone and is the caller's to give away (a received
   * message's own ArrayBuffer): the part's bytes are a view of it, not a copy.
   */
  ownBuffer?: boolean;
}

/** A binary frame as a part; its bytes are copied out of the frame unless the frame's buffer is given away (`ownBuffer`). */
export function decodePartFrame(frame: Uint8Array, options: PartFrameDecodeOptions = {}): FrameDecode<PartFrame & { bytes: Uint8Array<ArrayBuffer> }> {
  if (frame.byteLength < PREFIX_BYTES || frame[0] !== PART_FRAME) return fail('not a part frame');
  if (frame.byteLength > PART_FRAME_MAX_BYTES) return fail(`part frames are limited to ${PART_FRAME_MAX_BYTES} bytes`);
  const header = frameHeader(frame);
  if (!header.ok) return header;
  const checked = checkPartHeader(header.value.json);
  if (!checked.ok) return checked;
  const body = frame.subarray(header.value.bodyStart);
  if (body.byteLength === 0) return fail('a part has bytes');
  // The live state keeps a part for seconds: a view of a buffer shared with anything else would keep that alive too, so it is copied
  // unless the buffer is this frame's alone (then the view keeps only the header's few bytes more).
  const bytes = options.ownBuffer && frame.buffer instanceof ArrayBuffer ? new Uint8Array(frame.buffer, frame.byteOffset + header.value.bodyStart, body.byteLength) : body.slice();
  return { ok: true, value: { ...checked.value, bytes } };
}

/** A binary frame's JSON header, and where the bytes after it start. */
function frameHeader(frame: Uint8Array): FrameDecode<{ json: unknown; bodyStart: number }> {
  const headerLength = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint16(1);
  if (PREFIX_BYTES + headerLength > frame.byteLength) return fail('frame header runs past the frame');
  try {
    return { ok: true, value: { json: JSON.parse(HEADER_DECODER.decode(frame.subarray(PREFIX_BYTES, PREFIX_BYTES + headerLength))), bodyStart: PREFIX_BYTES + headerLength } };
  } catch {
    return fail('frame header is not JSON');
  }
}

function checkPartHeader(header: unknown): FrameDecode<PartHeader> {
  if (typeof header !== 'object' || header === null) return fail('part header is not an object');
  const h = header as Record<string, unknown>;
  const { rendition, file, contentType, msn, duration, independent, next, partTarget } = h;
  if (typeof rendition !== 'string' || typeof file !== 'string' || parseStreamRelativePath(`${rendition}/${file}`)?.kind !== 'part') return fail('rendition/file must name a part (RENDITION/SESSION-TIME.pN.m4s)');
  if (typeof contentType !== 'string' || !CONTENT_TYPES.includes(contentType)) return fail(`contentType must be one of ${CONTENT_TYPES.join(', ')}`);
  if (typeof msn !== 'number' || !Number.isSafeInteger(msn) || msn < 0) return fail('msn must be a media sequence number');
  if (typeof duration !== 'number' || !(duration > 0 && duration <= 10)) return fail('duration must be seconds, above 0 and at most 10');
  if (typeof independent !== 'boolean') return fail('independent must be true or false');
  if (typeof next !== 'string' || parseStreamRelativePath(`r/${next}`)?.kind !== 'part') return fail('next must be a part file name (SESSION-TIME.pN.m4s)');
  if (typeof partTarget !== 'number' || !(partTarget >= 0.05 && partTarget <= 5)) return fail('partTarget must be seconds from 0.05 to 5');
  return { ok: true, value: { rendition, file, contentType, msn, duration, independent, next, partTarget } };
}

/** What a document may be, with the content type each kind is stored with. */
export const DOCUMENT_TYPES: Partial<Record<StreamObjectKind, string>> = {
  multivariant: HLS_PLAYLIST_TYPE,
  'media-playlist': HLS_PLAYLIST_TYPE,
  mpd: DASH_MPD_TYPE,
  status: JSON_TYPE,
};
/**
 * A document's bytes at most: a live playlist of a broadcast kept whole (retention `all`) for
 * hours is a few hundred kB; a longer one goes over HTTP.
 */
export const DOCUMENT_FRAME_MAX_BYTES = 8 * 1024 * 1024;

/** A document frame's bytes before the document's own (sent as fragments of one message, as a part's). */
export function encodeDocumentHeader(document: Omit<DocumentFrame, 'bytes'>): Uint8Array<ArrayBuffer> {
  return framePrefix(DOCUMENT_FRAME, { id: document.id, path: document.path, contentType: document.contentType });
}

/** The kind of a binary frame: a part or a document (anything else is refused by its decoder). */
export function binaryFrameKind(frame: Uint8Array): 'part' | 'document' | undefined {
  return frame[0] === PART_FRAME ? 'part' : frame[0] === DOCUMENT_FRAME ? 'document' : undefined;
}

/** A binary frame as a document; its bytes are a view of the frame (a document is written, then let go). */
export function decodeDocumentFrame(frame: Uint8Array): FrameDecode<DocumentFrame> {
  if (frame.byteLength < PREFIX_BYTES || frame[0] !== DOCUMENT_FRAME) return fail('not a document frame');
  const header = frameHeader(frame);
  if (!header.ok) return header;
  const json = header.value.json;
  if (typeof json !== 'object' || json === null || !hasExactly(json as Record<string, unknown>, ['id', 'path', 'contentType'])) return fail('document header has exactly the fields id, path, contentType');
  const { id, path, contentType } = json as Record<string, unknown>;
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) return fail('document id must be a whole number from 0');
  if (typeof path !== 'string') return fail('document path must be text');
  const kind = parseStreamRelativePath(path)?.kind;
  const expected = kind === undefined ? undefined : DOCUMENT_TYPES[kind];
  if (expected === undefined) return fail('document path must name a playlist, the MPD or the status (index.m3u8, RENDITION/index.m3u8, manifest.mpd, status.json)');
  if (contentType !== expected) return fail(`content type for ${kind} must be ${expected}`);
  const bytes = frame.subarray(header.value.bodyStart);
  if (bytes.byteLength === 0) return fail('a document has bytes');
  if (bytes.byteLength > DOCUMENT_FRAME_MAX_BYTES) return fail(`documents on the live channel are limited to ${DOCUMENT_FRAME_MAX_BYTES} bytes`);
  return { ok: true, value: { id, path, contentType, bytes } };
}

export function encodeMessage(message: ClientMessage | EdgeMessage): string {
  return JSON.stringify(message);
}

/** A text frame's JSON object, or why it is not one. */
function jsonObject(text: string): FrameDecode<Record<string, unknown>> {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return fail('message is not JSON');
  }
  if (typeof message !== 'object' || message === null) return fail('message is not an object');
  return { ok: true, value: message as Record<string, unknown> };
}

/** A skipped part's reason goes into a viewer's 404: a sentence, not a document. */
export const SKIPPED_REASON_MAX_LENGTH = 300;

/** A segment has at most this many parts (a 10 s segment of 0.05 s parts is 200). */
export const SEGMENT_MAX_PARTS = 1_000;
/** A segment is at most this many bytes (the parts' limit is PART_FRAME_MAX_BYTES each). */
export const SEGMENT_MAX_BYTES = 256 * 1024 * 1024;
/** A not-stored reason is a sentence for a log line. */
export const NOT_STORED_REASON_MAX_LENGTH = 500;

/** Whether `m` has exactly these fields (a new message's fields are all checked: no unknown one passes). */
function hasExactly(m: Record<string, unknown>, fields: readonly string[]): boolean {
  const keys = Object.keys(m);
  return keys.length === fields.length && keys.every((key) => fields.includes(key));
}

const SEGMENT_FIELDS = ['type', 'rendition', 'file', 'parts', 'byteLength', 'contentType'] as const;

function checkSegmentMessage(m: Record<string, unknown>): FrameDecode<SegmentMessage> {
  if (!hasExactly(m, SEGMENT_FIELDS)) return fail(`segment has exactly the fields ${SEGMENT_FIELDS.join(', ')}`);
  const { rendition, file, parts, byteLength, contentType } = m;
  if (typeof rendition !== 'string' || typeof file !== 'string') return fail('segment must name a segment (rendition, file)');
  const segment = parseStreamRelativePath(`${rendition}/${file}`);
  if (segment?.kind !== 'segment') return fail('segment must name a segment (RENDITION/SESSION-TIME.m4s)');
  if (!Array.isArray(parts) || parts.length === 0 || parts.length > SEGMENT_MAX_PARTS) return fail(`segment's parts are a list of 1-${SEGMENT_MAX_PARTS} part files`);
  for (const [index, part] of parts.entries()) {
    const ref = typeof part === 'string' ? parseStreamRelativePath(`${rendition}/${part}`) : null;
    if (ref?.kind !== 'part' || ref.session !== segment.session || ref.time !== segment.time || ref.index !== index) return fail(`segment's parts must be its own part files in order, from .p0 (part ${index} is not)`);
  }
  if (typeof byteLength !== 'number' || !Number.isSafeInteger(byteLength) || byteLength <= 0 || byteLength > SEGMENT_MAX_BYTES) return fail(`segment's byteLength must be a whole number of bytes from 1 to ${SEGMENT_MAX_BYTES}`);
  if (typeof contentType !== 'string' || !CONTENT_TYPES.includes(contentType)) return fail(`segment's contentType must be one of ${CONTENT_TYPES.join(', ')}`);
  return { ok: true, value: { type: 'segment', rendition, file, parts: parts as string[], byteLength, contentType } };
}

/** A stored/not-stored answer's rendition and file name a segment. */
function namesSegment(m: Record<string, unknown>): m is Record<string, unknown> & { rendition: string; file: string } {
  return typeof m.rendition === 'string' && typeof m.file === 'string' && parseStreamRelativePath(`${m.rendition}/${m.file}`)?.kind === 'segment';
}

/** A text frame from the sidecar. */
export function decodeClientMessage(text: string): FrameDecode<ClientMessage> {
  const parsed = jsonObject(text);
  if (!parsed.ok) return parsed;
  const m = parsed.value;
  if (m.type === 'heartbeat' || m.type === 'release') return { ok: true, value: { type: m.type } };
  if (m.type === 'skipped') {
    if (typeof m.rendition !== 'string' || typeof m.file !== 'string' || parseStreamRelativePath(`${m.rendition}/${m.file}`)?.kind !== 'part') return fail('skipped must name a part (rendition, file)');
    if (m.reason !== undefined && (typeof m.reason !== 'string' || m.reason.length === 0 || m.reason.length > SKIPPED_REASON_MAX_LENGTH)) return fail(`skipped's reason, when given, is text of 1-${SKIPPED_REASON_MAX_LENGTH} characters`);
    return { ok: true, value: { type: 'skipped', rendition: m.rendition, file: m.file, ...(m.reason === undefined ? {} : { reason: m.reason }) } };
  }
  if (m.type === 'segment') return checkSegmentMessage(m);
  return fail('unknown message type');
}

/** A text frame from the edge. */
export function decodeEdgeMessage(text: string): FrameDecode<EdgeMessage> {
  const parsed = jsonObject(text);
  if (!parsed.ok) return parsed;
  const m = parsed.value;
  if (m.type === 'heartbeat') return { ok: true, value: { type: 'heartbeat' } };
  if (m.type === 'lease' && typeof m.ttlMs === 'number' && m.ttlMs > 0) return { ok: true, value: { type: 'lease', ttlMs: m.ttlMs } };
  if (m.type === 'refused' && typeof m.reason === 'string') return { ok: true, value: { type: 'refused', reason: m.reason.slice(0, 500) } };
  if (m.type === 'stored') {
    if (!hasExactly(m, ['type', 'rendition', 'file']) || !namesSegment(m)) return fail('stored names a segment (rendition, file) and nothing else');
    return { ok: true, value: { type: 'stored', rendition: m.rendition, file: m.file } };
  }
  if (m.type === 'not-stored') {
    if (!hasExactly(m, ['type', 'rendition', 'file', 'reason']) || !namesSegment(m)) return fail('not-stored names a segment (rendition, file) and a reason, nothing else');
    if (typeof m.reason !== 'string' || m.reason.length === 0 || m.reason.length > NOT_STORED_REASON_MAX_LENGTH) return fail(`not-stored's reason is text of 1-${NOT_STORED_REASON_MAX_LENGTH} characters`);
    return { ok: true, value: { type: 'not-stored', rendition: m.rendition, file: m.file, reason: m.reason } };
  }
  if (m.type === 'written' || m.type === 'not-written') {
    const fields = m.type === 'written' ? ['type', 'id'] : ['type', 'id', 'reason'];
    if (!hasExactly(m, fields) || typeof m.id !== 'number' || !Number.isSafeInteger(m.id) || m.id < 0) return fail(`${m.type} names a document id${m.type === 'written' ? '' : ' and a reason'}, nothing else`);
    if (m.type === 'written') return { ok: true, value: { type: 'written', id: m.id } };
    if (typeof m.reason !== 'string' || m.reason.length === 0 || m.reason.length > NOT_STORED_REASON_MAX_LENGTH) return fail(`not-written's reason is text of 1-${NOT_STORED_REASON_MAX_LENGTH} characters`);
    return { ok: true, value: { type: 'not-written', id: m.id, reason: m.reason } };
  }
  return fail('unknown message type');
}
