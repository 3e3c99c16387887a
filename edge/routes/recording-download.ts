/**
 * `/recordings/ID/RID.mp4` (GET and HEAD): a complete recording as one MP4 file to download,
 * made on the fly from its stored CMAF (shared/mp4/recording-mp4.ts: the best video rung and
 * the audio, nothing re-encoded), streamed as the client reads, with its exact Content-Length.
 * Who may download is who may watch the stream (its status document; a signed stream's token,
 * as for `/live/ID/`). Only objects the recording's document names are read, and its parser
 * checked they are init or media segments of this stream: nothing outside the stream's prefix.
 * One byte range per request is served (206; a player seeking in the file, a resumed download):
 * the file's layout is known from the stored sizes, so a range reads only the segments it covers.
 */
import { Hono, type Context } from 'hono';
import { VIDEO_MP4_TYPE } from '../../shared/media-types.ts';
import { Mp4BoxError } from '../../shared/mp4/box-reader.ts';
import { chooseDownloadRenditions } from '../../shared/mp4/download-renditions.ts';
import { recordingMp4, RecordingNotMuxable, type Mp4TrackInput, type RecordingMp4 } from '../../shared/mp4/recording-mp4.ts';
import { isPlaybackId } from '../../shared/playback-id.ts';
import { INVALID_RECORDING_ID, isRecordingId, type RecordingDocument, type RecordingRendition } from '../../shared/recordings/recording-document.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import { IMMUTABLE } from '../cache/cache-control.ts';
import { httpError } from '../errors.ts';
import { ifNoneMatchHits } from '../http/conditional.ts';
import { contentRange, decideRange } from '../http/range.ts';
import { readyRecording } from './ready-recording.ts';
import { privateToViewer, unsatisfiable } from './playback/responses.ts';
import { authorizeViewer } from './playback/viewer-access.ts';

export interface RecordingDownloadOptions {
  /** Where the stream's status and the recording's document are read (the viewers' cached reads). */
  store: ObjectStore;
  /**
   * Where its init and media segments are read (default: `store`). A download reads each once,
   * so the edge app gives it storage itself, not the edge cache: on Workers a cache lookup and
   * fill would triple the subrequests per segment (a request's subrequests are limited), and
   * one download would fill the location's cache with a whole recording.
   */
  mediaStore?: ObjectStore;
  playbackSecret?: string;
  now?: () => number;
}

// Part of the ETag: a change to how the file is put together changes its bytes.
const MP4_FORMAT_VERSION = 1;
// A broadcast reconnecting more often than this is not made into one file (each session's init is read up front).
const MAX_SESSIONS = 500;

export function recordingDownloadRoutes(options: RecordingDownloadOptions): Hono {
  const deps = { store: options.store, playbackSecret: options.playbackSecret, now: options.now ?? Date.now };
  const mediaStore = options.mediaStore ?? options.store;
  const routes = new Hono();

  // GET serves HEAD too (Hono): a HEAD request gets the headers and reads no segment.
  routes.get('/:playbackId/:file{[^/]+\\.mp4}', async (c) => {
    const playbackId = c.req.param('playbackId');
    const recordingId = c.req.param('file').slice(0, -'.mp4'.length);
    if (!isPlaybackId(playbackId)) throw httpError(400, 'invalid stream id');
    if (!isRecordingId(recordingId)) throw httpError(400, INVALID_RECORDING_ID);
    const { tokenExpiresAt } = await authorizeViewer(deps, c, playbackId);
    const recording = await readyRecording(deps.store, playbackId, recordingId, deps.now(), 'its MP4 can be downloaded');
    const mp4 = await prepare(mediaStore, recording);
    const headers: Record<string, string> = {
      'content-type': VIDEO_MP4_TYPE,
      'content-length': String(mp4.contentLength),
      'content-disposition': `attachment; filename="${playbackId}-${recordingId}.mp4"`,
      'cache-control': IMMUTABLE,
      'accept-ranges': 'bytes',
      etag: `"${recordingId}-mp4v${MP4_FORMAT_VERSION}-${mp4.contentLength}"`,
    };
    const response = respond(c, mp4, headers, `recording ${recordingId} of stream ${playbackId}`);
    // A signed stream's file stays in the viewer's cache only, never longer than the token lives.
    return tokenExpiresAt === undefined ? response : privateToViewer(response, 'segment', tokenExpiresAt, deps.now());
  });

  return routes;
}

function respond(c: Context, mp4: RecordingMp4, headers: Record<string, string>, label: string): Response {
  if (ifNoneMatchHits(c.req.header('if-none-match'), headers.etag!)) {
    return new Response(null, { status: 304, headers: { etag: headers.etag!, 'cache-control': headers['cache-control']! } });
  }
  if (c.req.method === 'HEAD') return new Response(null, { headers });
  // If-Range with another validator: the client's part is of another file, so it gets the whole one.
  const ifRange = c.req.header('if-range');
  const range = ifRange === undefined || ifRange === headers.etag ? decideRange(c.req.header('range'), mp4.contentLength) : { kind: 'whole' as const };
  if (range.kind === 'unsatisfiable') return unsatisfiable(mp4.contentLength);
  if (range.kind === 'partial') {
    const partial = { ...headers, 'content-length': String(range.length), 'content-range': contentRange(range.offset, range.length, mp4.contentLength) };
    return new Response(withKnownLength(logged(mp4.stream(range), label), range.length), { status: 206, headers: partial });
  }
  return new Response(withKnownLength(logged(mp4.stream(), label), mp4.contentLength), { headers });
}

/** The recording's tracks with their init segments read (one per session), ready to stream. */
async function prepare(store: ObjectStore, recording: RecordingDocument): Promise<RecordingMp4> {
  const renditions = chooseDownloadRenditions(recording.renditions);
  if (renditions.length === 0) throw httpError(404, 'this recording has no video or audio to download');
  const tracks = await Promise.all(renditions.map((rendition) => trackInput(store, rendition)));
  try {
    return recordingMp4({
      tracks,
      readSegment: async (key) => {
        const object = await store.get(key);
        if (!object) throw new Error(`${key} is not in storage`);
        return new Uint8Array(await new Response(object.body).arrayBuffer());
      },
    });
  } catch (error) {
    if (error instanceof RecordingNotMuxable) throw httpError(409, `this recording cannot be one MP4 file without re-encoding (${error.message}); play it as HLS or DASH`);
    if (error instanceof Mp4BoxError) {
      console.error(`edge: recording ${recording.recordingId} of stream ${recording.playbackId}: ${error.message}`);
      throw httpError(502, "this recording's stored media at the origin is unreadable");
    }
    throw error;
  }
}

async function trackInput(store: ObjectStore, rendition: RecordingRendition): Promise<Mp4TrackInput> {
  const initKeys = [rendition.initKey];
  const segments = rendition.segments.map((segment) => {
    const initKey = segment.initKey ?? rendition.initKey;
    let init = initKeys.indexOf(initKey);
    if (init < 0) init = initKeys.push(initKey) - 1;
    return { key: segment.key, durationSeconds: segment.durationSeconds, bytes: segment.bytes, init };
  });
  if (initKeys.length > MAX_SESSIONS) throw httpError(409, `this recording has ${initKeys.length} sessions (reconnects), more than ${MAX_SESSIONS} in one MP4 file; play it as HLS or DASH`);
  const inits = await Promise.all(
    initKeys.map(async (key) => {
      const object = await store.get(key);
      if (!object) {
        console.error(`edge: recording of rendition ${rendition.name}: its init segment ${key} is not in storage`);
        throw httpError(502, "this recording's stored media at the origin is incomplete");
      }
      return new Uint8Array(await new Response(object.body).arrayBuffer());
    }),
  );
  return { inits, segments };
}

/** The file's stream, with a failure half way (a segment gone from storage) logged: the client sees the body end short. */
function logged(stream: ReadableStream<Uint8Array>, label: string): ReadableStream<Uint8Array> {
  const reader = stream.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const read = await reader.read();
          if (read.done) controller.close();
          else controller.enqueue(read.value);
        } catch (error) {
          console.error(`edge: MP4 of ${label} stopped: ${(error as Error).message}`);
          controller.error(error);
        }
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

/**
 * Workers sends a streamed body chunked unless it passes through a FixedLengthStream, which also
 * fails the response if the bytes do not add up; Node and Deno take the Content-Length header.
 */
function withKnownLength(stream: ReadableStream<Uint8Array>, length: number): ReadableStream<Uint8Array> {
  const fixed = (globalThis as { FixedLengthStream?: new (length: number) => TransformStream<Uint8Array, Uint8Array> }).FixedLengthStream;
  return fixed ? stream.pipeThrough(new fixed(length)) : stream;
}
