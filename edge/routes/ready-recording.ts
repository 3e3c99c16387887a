/**
 * A complete recording as the viewer routes serve it (VOD manifests, MP4 download): its document
 * read and checked, or the refusal a viewer gets: 502 for a document that does not read, 404
 * for none (or expired), 409 while its broadcast goes on.
 */
import type { RecordingDocument } from '../../shared/recordings/recording-document.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import { httpError } from '../errors.ts';
import { isExpired, readRecording, UnreadableRecording } from '../recordings/recording-store.ts';

/** `once`: what becomes possible once the broadcast has ended, for the 409's reason ("it is playable"). */
export async function readyRecording(store: ObjectStore, playbackId: string, recordingId: string, now: number, once: string): Promise<RecordingDocument> {
  const recording = await readRecording(store, playbackId, recordingId).catch((error: unknown) => {
    if (!(error instanceof UnreadableRecording)) throw error;
    console.error(`edge: ${error.message}`);
    throw httpError(502, "this recording's document at the origin is unreadable");
  });
  if (!recording || isExpired(recording, now)) throw httpError(404, 'no such recording (or it expired, or was deleted)');
  if (recording.state !== 'ready') throw httpError(409, `the recording is not complete yet: ${once} once its broadcast has ended (after the reconnect window)`);
  return recording;
}
