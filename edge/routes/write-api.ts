/**
 * The write API the sidecar uploads through: `PUT /_ingest/objects/<key>` (and `DELETE` for
 * media that left the live window) with a bearer credential: a stream write token, good for its
 * stream's prefix only and until it expires, or the ingest secret itself (every stream).
 * Only keys of the storage layout are accepted, with the content type their kind allows; bodies
 * are counted as they arrive and cut at the limit; every refusal is a clear 4xx and stores nothing.
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { AUDIO_MP4_TYPE, DASH_MPD_TYPE, HLS_PLAYLIST_TYPE, IMAGE_JPEG_TYPE, IMAGE_WEBP_TYPE, JSON_TYPE, VIDEO_MP4_TYPE } from '../../shared/media-types.ts';
import { parseStreamObjectKey, type StreamObjectKind } from '../../shared/storage/layout.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import { WRITE_API_MAX_BYTES, WRITE_API_PREFIX } from '../../shared/write-api.ts';
import { NO_STORE } from '../cache/cache-control.ts';
import { httpError, TemporarilyUnavailable } from '../errors.ts';
import { LogThrottle } from '../log-throttle.ts';
import { BodyTooLarge } from '../http/limited-body.ts';
import { readUploadBody } from './write-api-body.ts';
import { checkIngestBearer } from './ingest-bearer.ts';
import { rememberedWriteCredentials } from './write-api-credentials.ts';
import type { LowLatencyCoordinator } from '../low-latency/coordinator.ts';
import { parsePartAnnouncement } from '../../shared/low-latency.ts';
import { parseRecordingObjectKey, type RecordingObjectKind } from '../../shared/recordings/recording-layout.ts';

const ALLOWED_TYPES: Record<StreamObjectKind | RecordingObjectKind, readonly string[]> = {
  multivariant: [HLS_PLAYLIST_TYPE],
  'media-playlist': [HLS_PLAYLIST_TYPE],
  status: [JSON_TYPE],
  mpd: [DASH_MPD_TYPE],
  thumbnail: [IMAGE_JPEG_TYPE, IMAGE_WEBP_TYPE],
  init: [VIDEO_MP4_TYPE, AUDIO_MP4_TYPE],
  segment: [VIDEO_MP4_TYPE, AUDIO_MP4_TYPE],
  part: [VIDEO_MP4_TYPE, AUDIO_MP4_TYPE],
  // A recording's document and VOD manifests (shared/recordings/), in its stream's prefix.
  'recording-document': [JSON_TYPE],
  'recording-multivariant': [HLS_PLAYLIST_TYPE],
  'recording-media-playlist': [HLS_PLAYLIST_TYPE],
  'recording-mpd': [DASH_MPD_TYPE],
};

/** How often the write API says that storage refuses writes, at most (each isolate or process). */
const STORAGE_COMPLAINT_MS = 10_000;

/**
 * Storage that failed a write (R2 or the S3 server down, slow, refusing) is storage's moment, not
 * the edge's bug: a log line naming the key at most every STORAGE_COMPLAINT_MS (with how many
 * failed since), and a 503 with Retry-After, which the sidecar retries, instead of a 500 and a
 * stack trace per write for as long as the outage lasts.
 */
async function storageWrite<T>(key: string, write: () => Promise<T>, complaints: LogThrottle): Promise<T> {
  try {
    return await write();
  } catch (error) {
    // The store's message may name its endpoint: logged here, never sent.
    const line = complaints.say(`edge: storage write of ${key} failed: ${error instanceof Error ? error.message : String(error)}`);
    if (line !== undefined) console.error(line);
    throw new TemporarilyUnavailable('storage did not take the write; try again shortly', 1);
  }
}

// A part is a fraction of a segment: far below the object limit.
const PART_MAX_BYTES = 8 * 1024 * 1024;

export interface WriteApiOptions {
  store: ObjectStore;
  /** Unset: the write API refuses everything. */
  secret: string | undefined;
  /** Takes low-latency parts and learns of every new media playlist; unset: parts are refused. */
  lowLatency?: LowLatencyCoordinator;
  /** The connecting peer's address, where the runtime gives it (Node, Deno): see development-secret.ts. */
  peerAddress?: (c: Context) => string | undefined;
}

/** `writeExpiresAt`: epoch seconds at which the request's write token expires (unset for the ingest secret itself). */
export type WriteEnv = { Variables: { writeScope: string; writeExpiresAt: number | undefined } };

/**
 * Checks the request's bearer credential before anything else and sets `writeScope`: the stream
 * it may write ('*': all). The write API and the live channel share it.
 */
export function writeCredentialCheck(options: Pick<WriteApiOptions, 'secret' | 'peerAddress'>): MiddlewareHandler<WriteEnv> {
  // Each token's HMAC is checked once, then trusted until its expiry (write-api-credentials.ts).
  const verify = rememberedWriteCredentials();
  return async (c, next) => {
    const check = await checkIngestBearer(c, { ...options, api: 'write API', credential: 'INGEST_SECRET or stream write token', verify });
    c.set('writeScope', check.scope);
    c.set('writeExpiresAt', check.expiresAt);
    await next();
  };
}

export function writeApiRoutes(options: WriteApiOptions): Hono<WriteEnv> {
  const routes = new Hono<WriteEnv>();
  const storageComplaints = new LogThrottle(STORAGE_COMPLAINT_MS);
  routes.use('*', writeCredentialCheck(options));

  /** The key from the raw (undecoded) path: an encoded separator or dot never becomes one; and inside the credential's stream. */
  function objectKey(c: Context<WriteEnv>) {
    const path = new URL(c.req.url).pathname;
    const key = path.slice(WRITE_API_PREFIX.length);
    const parsed = parseStreamObjectKey(key) ?? parseRecordingObjectKey(key);
    if (!parsed) throw httpError(400, `not a stream object key: ${JSON.stringify(key.slice(0, 200))}`);
    const scope = c.get('writeScope');
    if (scope !== '*' && scope !== parsed.playbackId) throw httpError(403, `this write token is for stream "${scope}", not "${parsed.playbackId}"`);
    return { key, kind: parsed.ref.kind, ref: parsed.ref, playbackId: parsed.playbackId };
  }

  /** The body, counted as it arrives: past the limit the upload is cancelled and answered 413 (with or without Content-Length). */
  async function readLimited(c: Context<WriteEnv>, limit: number, what: string): Promise<Uint8Array<ArrayBuffer>> {
    try {
      return await readUploadBody(c, limit);
    } catch (error) {
      if (error instanceof BodyTooLarge) throw httpError(413, `${what} are limited to ${limit} bytes`);
      throw error;
    }
  }

  routes.put('/*', async (c) => {
    const { key, kind, ref, playbackId } = objectKey(c);
    const contentType = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase() ?? '';
    if (!ALLOWED_TYPES[kind].includes(contentType)) {
      throw httpError(415, `content type for ${kind} must be one of ${ALLOWED_TYPES[kind].join(', ')}`);
    }
    const limit = kind === 'part' ? PART_MAX_BYTES : WRITE_API_MAX_BYTES;
    const declaredLength = Number(c.req.header('content-length') ?? 0);
    if (declaredLength > limit) throw httpError(413, `${kind === 'part' ? 'parts' : 'objects'} are limited to ${limit} bytes`);
    if (ref.kind === 'part') {
      if (!options.lowLatency) throw httpError(501, 'this edge has no low-latency live state: run the sidecar with --low-latency off');
      const announcement = parsePartAnnouncement((name) => c.req.header(name));
      if (!announcement.ok) throw httpError(400, announcement.reason);
      const bytes = await readLimited(c, limit, 'parts');
      await options.lowLatency.acceptPart(playbackId, ref.rendition, {
        ...announcement.part,
        file: key.slice(key.lastIndexOf('/') + 1),
        session: ref.session,
        segmentTime: ref.time,
        index: ref.index,
        bytes,
        contentType,
      });
      return c.json({ accepted: key, bytes: bytes.byteLength }, 201, { 'cache-control': NO_STORE });
    }
    const body = await readLimited(c, limit, 'objects');
    await storageWrite(key, () => options.store.put(key, body, { contentType }), storageComplaints);
    // Stored first: the live state never lists what storage does not hold.
    if (ref.kind === 'media-playlist' && options.lowLatency) await options.lowLatency.acceptPlaylist(playbackId, ref.rendition, new TextDecoder().decode(body));
    return c.json({ stored: key, bytes: body.byteLength }, 201, { 'cache-control': NO_STORE });
  });

  // Retention removes media that left the live window; documents (playlists, MPD, status) are
  // only ever replaced.
  routes.delete('/*', async (c) => {
    const { key, kind } = objectKey(c);
    if (kind !== 'segment' && kind !== 'init') throw httpError(405, `${kind} objects are replaced, never deleted`);
    await storageWrite(key, () => options.store.delete(key), storageComplaints);
    return c.body(null, 204, { 'cache-control': NO_STORE });
  });

  routes.get('/*', async (c) => {
    const { key } = objectKey(c);
    const object = await options.store.get(key);
    if (!object) throw httpError(404, 'no such object');
    return new Response(object.body, {
      headers: {
        'content-type': object.contentType ?? 'application/octet-stream',
        'content-length': String(object.size),
        etag: `"${object.etag}"`,
        'cache-control': NO_STORE,
      },
    });
  });

  return routes;
}
