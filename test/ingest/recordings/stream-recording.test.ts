/** A stream that records: one broadcast (with reconnects) becomes one recording, its media kept from window retention. */
import { parse as parseMpd } from 'mpd-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { StreamOutput } from '../../../ingest/publish/stream-output.ts';
import { PASSTHROUGH_ONLY } from '../../../ingest/transcode/ladder.ts';
import { parseRecordingDocument, recordingDocumentKey, type RecordingDocument } from '../../../shared/recordings/recording-document.ts';
import { recordingObjectKey } from '../../../shared/recordings/recording-layout.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import { parseStreamStatus } from '../../../shared/stream-status.ts';
import { parseM3u8 } from '../../helpers/m3u8.ts';
import { makeFlv, segmentTrack, transcodeToCmaf, type SegmentedTrack } from '../../helpers/media-fixtures.ts';

const START = Date.parse('2026-12-06T09:00:00Z');
// Three publish sessions: the publisher reconnected twice within the window (one broadcast).
const SESSIONS = ['sessiona1', 'sessionb2', 'sessionc3'];

class RecordingStore extends MemoryObjectStore {
  readonly deletes: string[] = [];
  override async delete(key: string): Promise<void> {
    this.deletes.push(key);
    await super.delete(key);
  }
}

describe('a recorded broadcast', () => {
  let video: SegmentedTrack;
  let audio: SegmentedTrack;

  beforeAll(async () => {
    const [v, a] = (await transcodeToCmaf(await makeFlv({ seconds: 7, gopFrames: 60 }))) as [Buffer, Buffer];
    video = segmentTrack(v);
    audio = segmentTrack(a);
  });

  /** A sidecar's output of stream `colors` (window retention, a 3-segment window) that records, on `store` and the shared clock. */
  function recordingOutput(store: MemoryObjectStore, clock: { now: number }, recording: { keepDays: number; onReady?: (recording: RecordingDocument) => void }) {
    const onError = (error: unknown) => {
      throw error;
    };
    return new StreamOutput({ playbackId: 'colors', renditions: PASSTHROUGH_ONLY, store, targetSegmentDuration: 2, windowSegments: 3, now: () => clock.now, retention: 'window', recording, onError });
  }

  /** One publish session of four 2 s segments per rendition, each stored and listed before the next. */
  async function publishSession(output: StreamOutput, session: string, clock: { now: number }) {
    output.beginSession(session);
    output.noteChunkReceived(session, 0.333);
    output.publishInit(session, 'source', video.init, video.track);
    output.publishInit(session, 'audio', audio.init, audio.track);
    for (let i = 0; i < 4; i++) {
      clock.now += 2000;
      output.publishSegment(session, 'source', video.segments[i]!);
      output.publishSegment(session, 'audio', audio.segments[i]!);
      await output.idle();
    }
  }

  async function broadcast() {
    const store = new RecordingStore();
    const clock = { now: START };
    const ready: RecordingDocument[] = [];
    const statuses: unknown[] = [];
    const output = recordingOutput(store, clock, { keepDays: 7, onReady: (recording) => ready.push(recording) });
    let midway: RecordingDocument | undefined;
    for (const session of SESSIONS) {
      await publishSession(output, session, clock);
      statuses.push(JSON.parse(store.text('streams/colors/status.json')!));
      if (session === 'sessionb2') midway = documentOf(store);
      // The publisher is away for a while; then it comes back.
      clock.now += 5000;
    }
    await output.end();
    return { store, ready, midway, statuses };
  }

  function documentOf(store: MemoryObjectStore): RecordingDocument | undefined {
    const id = [...store.objects.keys()].map((key) => /^streams\/colors\/recordings\/([^/]+)\/recording\.json$/.exec(key)?.[1]).find(Boolean);
    if (!id) return undefined;
    const parsed = parseRecordingDocument(JSON.parse(store.text(recordingDocumentKey('colors', id))!));
    if (!parsed.ok) throw new Error(parsed.reason);
    return parsed.recording;
  }

  it('keeps every segment, and lists all of them in one ready recording with VOD playlists and a static MPD', async () => {
    const { store, ready, midway, statuses } = await broadcast();
    // Window retention would have deleted most of it: a recording keeps its media.
    expect(store.deletes).toEqual([]);

    // While the broadcast went on, its document said `recording`, and the status pointed at it;
    // its expiry moves on with every write (one abandoned by a dead sidecar still expires).
    expect(midway?.state).toBe('recording');
    expect(Date.parse(midway!.expiresAt!)).toBeGreaterThan(START + 7 * 86_400_000);
    const liveStatus = parseStreamStatus(statuses[1]);
    expect(liveStatus.ok && liveStatus.status.recording?.state).toBe('recording');

    const recording = documentOf(store)!;
    expect(recording.recordingId).toBe(midway!.recordingId);
    expect(ready).toEqual([recording]);
    expect(recording.state).toBe('ready');
    expect(recording.endedAt).toBeDefined();
    expect(Date.parse(recording.expiresAt!) - Date.parse(recording.endedAt!)).toBe(7 * 86_400_000);
    for (const rendition of recording.renditions) {
      expect(rendition.segments).toHaveLength(12);
      for (const key of [rendition.initKey, ...rendition.segments.flatMap((segment) => [segment.key, segment.initKey ?? rendition.initKey])]) {
        expect(store.objects.has(key), key).toBe(true);
      }
    }
    const stored = [...store.objects.entries()].filter(([key]) => key.endsWith('.m4s') || key.includes('/init-')).reduce((sum, [, object]) => sum + object.bytes.byteLength, 0);
    expect(recording.bytes).toBe(stored);
    expect(recording.durationSeconds).toBeGreaterThan(20);

    // VOD HLS: the multivariant playlist and each media playlist, every segment one the stream holds.
    const id = recording.recordingId;
    const multivariant = parseM3u8(store.text(recordingObjectKey('colors', id, { kind: 'recording-multivariant' }))!);
    expect(multivariant.playlists?.map((playlist) => playlist.uri)).toEqual(['source/index.m3u8']);
    for (const rendition of ['source', 'audio']) {
      const playlist = parseM3u8(store.text(recordingObjectKey('colors', id, { kind: 'recording-media-playlist', rendition }))!);
      expect(playlist.playlistType).toBe('VOD');
      expect(playlist.endList).toBe(true);
      expect(playlist.segments).toHaveLength(12);
      expect(playlist.segments.filter((segment) => segment.discontinuity)).toHaveLength(2);
      for (const segment of playlist.segments) {
        expect(store.objects.has(`streams/colors/${rendition}/${segment.uri}`), segment.uri).toBe(true);
        expect(store.objects.has(`streams/colors/${rendition}/${segment.map!.uri}`), segment.map!.uri).toBe(true);
      }
    }
    const mpdText = store.text(recordingObjectKey('colors', id, { kind: 'recording-mpd' }))!;
    expect(mpdText).toContain('type="static"');
    const mpd = parseMpd(mpdText, { manifestUri: `http://edge/recordings/colors/${id}/manifest.mpd` });
    const segments = mpd.playlists.flatMap((playlist) => playlist.segments);
    expect(segments).toHaveLength(12);
    for (const segment of segments) expect(store.objects.has(new URL(segment.resolvedUri).pathname.replace(`/recordings/colors/${id}/`, 'streams/colors/'))).toBe(true);

    // The ended stream's status names the ready recording: what the player page plays.
    const status = parseStreamStatus(JSON.parse(store.text('streams/colors/status.json')!));
    expect(status.ok && status.status.state).toBe('ended');
    expect(status.ok && status.status.recording).toEqual({ id, state: 'ready', hls: `/recordings/colors/${id}/index.m3u8`, dash: `/recordings/colors/${id}/manifest.mpd`, mp4: `/recordings/colors/${id}.mp4` });
  });

  it('a sidecar that crashed mid-broadcast: the one taking it up goes on with the same recording, none of its segments lost', async () => {
    const store = new RecordingStore();
    const clock = { now: START };
    const ready: RecordingDocument[] = [];
    // The first sidecar lists four segments (its document was last written after the first) and dies.
    await publishSession(recordingOutput(store, clock, { keepDays: 0 }), 'sessiona1', clock);
    const before = documentOf(store)!;
    expect(before.state).toBe('recording');
    expect(before.renditions[0]!.segments.length).toBeLessThan(4);

    // Another sidecar takes the broadcast up (its journal said the stream was open) and the publisher comes back.
    clock.now += 5000;
    const second = recordingOutput(store, clock, { keepDays: 0, onReady: (recording) => ready.push(recording) });
    await second.restoreFromStorage();
    await publishSession(second, 'sessionb2', clock);
    await second.end();

    const recording = documentOf(store)!;
    expect(recording.recordingId).toBe(before.recordingId);
    expect(ready.map((document) => document.recordingId)).toEqual([before.recordingId]);
    expect(recording.state).toBe('ready');
    for (const rendition of recording.renditions) {
      expect(rendition.segments.map((segment) => segment.key.split('/').at(-1)!.split('-')[0])).toEqual([...Array(4).fill('sessiona1'), ...Array(4).fill('sessionb2')]);
    }
    const playlist = parseM3u8(store.text(recordingObjectKey('colors', recording.recordingId, { kind: 'recording-media-playlist', rendition: 'source' }))!);
    expect(playlist.segments).toHaveLength(8);
    expect(store.deletes).toEqual([]);
  });
});
