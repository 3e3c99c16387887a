/**
 * A stream's recordings as the edge keeps them: read (validated), listed, deleted with their
 * media, and expired (a ready recording whose expiresAt passed is gone for viewers and the API
 * at once, and deleted by the next sweep). Every key followed is one the document parser checked
 * is inside the stream's own prefix.
 */
import { streamObjectKey } from '../../shared/storage/layout.ts';
import { readStreamStatus } from '../storage/stream-status.ts';
import { saveSweepCursor, streamsToSweep } from '../storage/stream-sweep.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import { isRecordingId, parseRecordingDocument, recordingDocumentKey, recordingsPrefix, type RecordingDocument } from '../../shared/recordings/recording-document.ts';
import { recordingObjectKey } from '../../shared/recordings/recording-layout.ts';

/** The document is there but is not one: a fault at the origin, not a recording that does not exist. */
export class UnreadableRecording extends Error {}

// Recordings listed per stream at most (newest last by id order); far beyond a stream's broadcasts in any retention.
export const MAX_RECORDINGS_LISTED = 1000;
// Storage reads (a stream's listing, a document) per sweep at most.
const SWEEP_READ_BUDGET = 200;
// Where a sweep cut short by its budget stopped: the last stream it looked at (the next one starts after it).
export const EXPIRY_SWEEP_CURSOR_KEY = 'platform/recording-expiry-cursor.txt';

export function isExpired(recording: RecordingDocument, now: number): boolean {
  return recording.expiresAt !== undefined && Date.parse(recording.expiresAt) <= now;
}

/** The recording's document, or undefined when there is none; throws UnreadableRecording for one that does not read. */
export async function readRecording(store: ObjectStore, playbackId: string, recordingId: string): Promise<RecordingDocument | undefined> {
  const object = await store.get(recordingDocumentKey(playbackId, recordingId));
  if (!object) return undefined;
  let json: unknown;
  try {
    json = await new Response(object.body).json();
  } catch {
    throw new UnreadableRecording(`recording ${recordingId} of stream ${playbackId}: its document is not JSON`);
  }
  const parsed = parseRecordingDocument(json);
  if (!parsed.ok) throw new UnreadableRecording(`recording ${recordingId} of stream ${playbackId}: ${parsed.reason}`);
  // A document under another stream's or recording's name is not this recording.
  if (parsed.recording.playbackId !== playbackId || parsed.recording.recordingId !== recordingId) {
    throw new UnreadableRecording(`recording ${recordingId} of stream ${playbackId}: its document names another recording`);
  }
  return parsed.recording;
}

/** The ids of the stream's recordings (oldest first: ids sort by start time). */
export async function listRecordingIds(store: ObjectStore, playbackId: string, page: { limit: number; after?: string } = { limit: MAX_RECORDINGS_LISTED }): Promise<string[]> {
  if (!store.listChildren) throw new Error('this storage cannot list');
  // Ids are lowercase letters and digits: their folders' key order is their own order.
  return (await store.listChildren(recordingsPrefix(playbackId), page.limit, page.after)).filter(isRecordingId).sort();
}

/**
 * A page of the stream's recordings that read and have not expired (one that does not read is
 * logged and left out): at most `limit`, after the id `after`, oldest first; `next` is the cursor
 * of the following page (null on the last).
 */
export async function listRecordings(store: ObjectStore, playbackId: string, now: number, page: { limit: number; after?: string } = { limit: MAX_RECORDINGS_LISTED }): Promise<{ recordings: RecordingDocument[]; next: string | null }> {
  // One more than the page: whether there is a next one.
  const ids = await listRecordingIds(store, playbackId, { limit: page.limit + 1, ...(page.after !== undefined ? { after: page.after } : {}) });
  const recordings: RecordingDocument[] = [];
  const pageIds = ids.slice(0, page.limit);
  for (const id of pageIds) {
    try {
      const recording = await readRecording(store, playbackId, id);
      if (recording && !isExpired(recording, now)) recordings.push(recording);
    } catch (error) {
      if (!(error instanceof UnreadableRecording)) throw error;
      console.error(`edge: ${error.message}`);
    }
  }
  return { recordings, next: ids.length > page.limit ? pageIds.at(-1)! : null };
}

/**
 * Deletes a recording: its media (every init and media segment its document names), its
 * manifests, then its document (last: a failure half way leaves a document to try again with).
 */
export async function deleteRecording(store: ObjectStore, recording: RecordingDocument): Promise<void> {
  const { playbackId, recordingId } = recording;
  const media = new Set<string>();
  for (const rendition of recording.renditions) {
    media.add(rendition.initKey);
    for (const segment of rendition.segments) {
      media.add(segment.key);
      if (segment.initKey) media.add(segment.initKey);
    }
  }
  if (store.deleteMany) await store.deleteMany([...media]);
  else for (const key of media) await store.delete(key);
  await forgetEndedBroadcast(store, recording);
  for (const rendition of recording.renditions) await store.delete(recordingObjectKey(playbackId, recordingId, { kind: 'recording-media-playlist', rendition: rendition.name }));
  await store.delete(recordingObjectKey(playbackId, recordingId, { kind: 'recording-multivariant' }));
  await store.delete(recordingObjectKey(playbackId, recordingId, { kind: 'recording-mpd' }));
  await store.delete(recordingDocumentKey(playbackId, recordingId));
}

/**
 * The ended stream's own playlists and MPD list (some of) the deleted recording's media when it
 * was the stream's latest broadcast (its status names it): they go too, so that `/live/ID/`
 * answers 404 rather than a playlist of deleted segments. A stream live again names a newer
 * recording, and keeps its playlists.
 */
async function forgetEndedBroadcast(store: ObjectStore, recording: RecordingDocument): Promise<void> {
  const status = await readStreamStatus(store, recording.playbackId).catch(() => undefined);
  if (status?.state !== 'ended' || status.recording?.id !== recording.recordingId) return;
  const { playbackId } = recording;
  for (const rendition of recording.renditions) await store.delete(streamObjectKey(playbackId, { kind: 'media-playlist', rendition: rendition.name }));
  await store.delete(streamObjectKey(playbackId, { kind: 'multivariant' }));
  await store.delete(streamObjectKey(playbackId, { kind: 'mpd' }));
}

/**
 * Deletes expired recordings; returns how many. A sweep makes at most `budget` reads (a stream's
 * listing, a document: a Worker's invocation has a limit of storage calls). It starts after the
 * stream where the last sweep stopped (a small cursor object in storage) and goes round from the
 * first stream after the last: sweeps cut short get to every stream in turn, however many there are.
 */
export async function expireRecordings(store: ObjectStore, now: number, budget = SWEEP_READ_BUDGET): Promise<number> {
  // At most one read per stream fits in the budget: no more are listed.
  const streams = await streamsToSweep(store, EXPIRY_SWEEP_CURSOR_KEY, budget);
  let deleted = 0;
  let reads = 0;
  let lookedAt: string | undefined;
  sweep: for (const playbackId of streams) {
    if (reads++ >= budget) break;
    for (const id of await listRecordingIds(store, playbackId)) {
      if (reads++ >= budget) break sweep;
      const recording = await readRecording(store, playbackId, id).catch(() => undefined);
      if (!recording || !isExpired(recording, now)) continue;
      await deleteRecording(store, recording);
      deleted += 1;
    }
    lookedAt = playbackId;
  }
  if (lookedAt !== undefined) await saveSweepCursor(store, EXPIRY_SWEEP_CURSOR_KEY, lookedAt);
  return deleted;
}
