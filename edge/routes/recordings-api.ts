/**
 * A stream's recordings in the management API (admin token, as the rest of it):
 * `GET /api/v1/streams/NAME/recordings` (oldest first, 100 a page: `?limit=`, `?cursor=`), `GET .../recordings/ID`, and
 * `DELETE .../recordings/ID`, which deletes the recording's media and documents. Each shows its
 * start, end, duration, size in bytes, state (`recording` while its broadcast goes on, `ready`
 * once complete) and where to play or download it (absolute URLs on this edge).
 */
import { Hono, type Context } from 'hono';
import { INVALID_RECORDING_ID, isRecordingId, type RecordingDocument } from '../../shared/recordings/recording-document.ts';
import { recordingUrls } from '../../shared/recordings/recording-layout.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import { httpError } from '../errors.ts';
import type { StreamRecord, StreamRegistry } from '../platform/stream-registry.ts';
import { streamByName } from './stream-by-name.ts';
import { deleteRecording, isExpired, listRecordings, readRecording, UnreadableRecording } from '../recordings/recording-store.ts';
import { readStreamStatus } from '../storage/stream-status.ts';
import { adminAuth } from './admin-auth.ts';

export interface RecordingsApiOptions {
  registry: StreamRegistry | undefined;
  /** The stream's storage (not a cached view: a deletion must see what is stored). */
  store: ObjectStore;
  adminToken: string | undefined;
  now?: () => number;
}

/** What the API shows of a recording. */
export function recordingView(recording: RecordingDocument, origin: string) {
  return {
    id: recording.recordingId,
    playbackId: recording.playbackId,
    state: recording.state,
    startedAt: recording.startedAt,
    endedAt: recording.endedAt ?? null,
    durationSeconds: recording.durationSeconds,
    bytes: recording.bytes,
    expiresAt: recording.expiresAt ?? null,
    renditions: recording.renditions.map(({ name, kind, codecs, width, height, bandwidth }) => ({ name, kind, codecs, width: width ?? null, height: height ?? null, bandwidth })),
    urls: recordingUrls(recording.playbackId, recording.recordingId, origin),
  };
}

const MAX_PAGE = 100;

/** `?limit=` (1 to 100, default 100) and `?cursor=` (the last id of the page before). */
function pageOf(limit: string | undefined, cursor: string | undefined): { limit: number; after?: string } {
  const count = limit === undefined ? MAX_PAGE : Number(limit);
  if (!Number.isInteger(count) || count < 1 || count > MAX_PAGE || (limit !== undefined && !/^\d{1,3}$/.test(limit))) throw httpError(400, `limit must be a whole number from 1 to ${MAX_PAGE}`);
  if (cursor !== undefined && !isRecordingId(cursor)) throw httpError(400, 'cursor must be a recording id (nextCursor of the page before)');
  return { limit: count, ...(cursor !== undefined ? { after: cursor } : {}) };
}

export function recordingsApiRoutes(options: RecordingsApiOptions): Hono {
  const routes = new Hono();
  const now = options.now ?? Date.now;
  routes.use('/:name/recordings', adminAuth(options.adminToken));
  routes.use('/:name/recordings/*', adminAuth(options.adminToken));

  const stream = (c: Context): Promise<StreamRecord> => streamByName(options.registry, c);

  const recording = async (c: Context): Promise<RecordingDocument> => {
    const { playbackId, name } = await stream(c);
    const id = c.req.param('id')!;
    if (!isRecordingId(id)) throw httpError(400, INVALID_RECORDING_ID);
    const found = await readRecording(options.store, playbackId, id).catch((error: unknown) => {
      if (error instanceof UnreadableRecording) throw httpError(502, error.message);
      throw error;
    });
    if (!found || isExpired(found, now())) throw httpError(404, `stream "${name}" has no recording "${id}"`);
    return found;
  };

  const origin = (c: Context) => new URL(c.req.url).origin;

  routes.get('/:name/recordings', async (c) => {
    const { playbackId } = await stream(c);
    if (!options.store.listChildren) throw httpError(501, 'this storage cannot list recordings');
    const page = pageOf(c.req.query('limit'), c.req.query('cursor'));
    const { recordings, next } = await listRecordings(options.store, playbackId, now(), page);
    return c.json({ recordings: recordings.map((found) => recordingView(found, origin(c))), nextCursor: next });
  });

  routes.get('/:name/recordings/:id', async (c) => c.json({ recording: recordingView(await recording(c), origin(c)) }));

  routes.delete('/:name/recordings/:id', async (c) => {
    const found = await recording(c);
    // One still recording may go only when its broadcast is over (its sidecar died and nobody took it up).
    if (found.state !== 'ready') {
      const status = await readStreamStatus(options.store, found.playbackId).catch(() => undefined);
      if (status?.recording?.id === found.recordingId && status.state !== 'ended') throw httpError(409, 'the recording is not complete yet (its broadcast goes on): delete it once it is ready');
    }
    await deleteRecording(options.store, found);
    return c.json({ deleted: recordingView(found, origin(c)) });
  });

  return routes;
}
