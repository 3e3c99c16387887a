/**
 * The recording a crashed sidecar left, for the sidecar that takes its broadcast up (from its
 * journal, or a takeover): the stream's status names it, still `recording`. Its segments are
 * those its stored document lists, then those of the taken-up live playlists it had not listed
 * yet (the document is rewritten every 10 s, the playlists with every segment), each with its
 * size from storage. Nothing found (or a document that does not read): undefined, and the rest
 * of the broadcast is a recording of its own.
 */
import { parseRecordingDocument, recordingDocumentKey } from '../../shared/recordings/recording-document.ts';
import { parseStreamObjectKey, streamObjectKey } from '../../shared/storage/layout.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import { parseStreamStatus } from '../../shared/stream-status.ts';
import { parseCmafInitSegment, type CmafTrack } from '../package/cmaf-track.ts';
import type { ListedSegment } from '../publish/live-window.ts';
import type { StoredStream } from '../publish/restore.ts';
import type { RecordedSegment, ResumedRecording } from './recording-manifests.ts';
import type { StreamRecorder } from './stream-recorder.ts';

export type { ResumedRecording };

export interface TakenUpRendition {
  name: string;
  /** The track of each session (from the stored init segments). */
  tracks: ReadonlyMap<string, CmafTrack>;
  /** The live playlist's segments as taken up. */
  live: readonly ListedSegment[];
}

async function readJson(store: ObjectStore, key: string): Promise<unknown> {
  const object = await store.get(key);
  if (!object) return undefined;
  try {
    return await new Response(object.body).json();
  } catch {
    return undefined;
  }
}

function sessionOf(key: string): { session: string; time: number } | undefined {
  const ref = parseStreamObjectKey(key)?.ref;
  if (ref?.kind === 'segment') return { session: ref.session, time: ref.time };
  if (ref?.kind === 'init') return { session: ref.session, time: 0 };
  return undefined;
}

export async function readRecordingToResume(store: ObjectStore, playbackId: string, takenUp: readonly TakenUpRendition[]): Promise<ResumedRecording | undefined> {
  const status = parseStreamStatus(await readJson(store, streamObjectKey(playbackId, { kind: 'status' })));
  const named = status.ok ? status.status.recording : undefined;
  if (!named || named.state !== 'recording') return undefined;
  const parsed = parseRecordingDocument(await readJson(store, recordingDocumentKey(playbackId, named.id)).catch(() => undefined));
  if (!parsed.ok || parsed.recording.playbackId !== playbackId || parsed.recording.state !== 'recording') return undefined;
  const document = parsed.recording;
  const resumed: ResumedRecording = { recordingId: document.recordingId, startedAt: Date.parse(document.startedAt), renditions: new Map() };
  for (const { name, tracks, live } of takenUp) {
    const listed = document.renditions.find((rendition) => rendition.name === name);
    const segments: RecordedSegment[] = [];
    const known = new Set<string>();
    // Sessions from before the live window: their tracks from their stored init segments.
    const allTracks = new Map(tracks);
    for (const initKey of new Set([listed?.initKey, ...(listed?.segments ?? []).map((segment) => segment.initKey)])) {
      const session = initKey && sessionOf(initKey)?.session;
      if (!initKey || !session || allTracks.has(session)) continue;
      const init = await store.get(initKey);
      if (!init) continue;
      try {
        allTracks.set(session, parseCmafInitSegment(new Uint8Array(await new Response(init.body).arrayBuffer())));
      } catch {
        // An init segment that does not parse: its segments stay listed in HLS, without DASH timing.
      }
    }
    for (const segment of listed?.segments ?? []) {
      const at = sessionOf(segment.key);
      const initSession = sessionOf(segment.initKey ?? listed!.initKey)?.session;
      if (!at || !initSession) continue;
      const track = allTracks.get(initSession);
      known.add(segment.key);
      segments.push({ ...at, initSession, ticks: track ? Math.round(segment.durationSeconds * track.timescale) : 0, duration: segment.durationSeconds, bytes: segment.bytes, programDateTime: Number.NaN });
    }
    for (const segment of live) {
      const key = streamObjectKey(playbackId, { kind: 'segment', rendition: name, session: segment.session, time: segment.time });
      if (segment.gap || known.has(key)) continue;
      const stored = await store.head(key);
      if (!stored) continue;
      segments.push({ session: segment.session, initSession: segment.initSession, time: segment.time, ticks: segment.ticks, duration: segment.duration, bytes: stored.size, programDateTime: segment.programDateTime });
    }
    const initBytes = new Map<string, number>();
    for (const session of new Set(segments.map((segment) => segment.initSession))) {
      initBytes.set(session, (await store.head(streamObjectKey(playbackId, { kind: 'init', rendition: name, session })))?.size ?? 0);
    }
    resumed.renditions.set(name, { segments, initBytes, tracks: allTracks });
  }
  return resumed;
}

/** The taken-up broadcast's recording goes on in `recorder` (when there is one to go on with). */
export async function resumeRecording(recorder: StreamRecorder, store: ObjectStore, playbackId: string, stored: StoredStream): Promise<void> {
  const takenUp = stored.renditions.map((rendition) => ({ name: rendition.name, tracks: rendition.tracks, live: rendition.live?.segments ?? [] }));
  const resumed = await readRecordingToResume(store, playbackId, takenUp);
  if (resumed) recorder.resume(resumed);
}
