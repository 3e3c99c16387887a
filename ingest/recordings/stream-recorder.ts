/**
 * Records one broadcast of a stream: remembers every segment its renditions list (with its media
 * stored), keeps its recording document in storage while it goes on (state `recording`, every
 * few seconds), and once the broadcast is over writes its VOD playlists and MPD, then the
 * document as `ready` (in that order: a ready document always has its manifests). What the
 * documents say comes from recording-manifests.ts; the media are the stream's own objects, kept
 * from window retention by the stream's output while recording is on.
 */
import { renderMpd } from '../../shared/dash/mpd.ts';
import { renderMediaPlaylist } from '../../shared/hls/media-playlist.ts';
import { renderMultivariantPlaylist } from '../../shared/hls/multivariant-playlist.ts';
import { DASH_MPD_TYPE, HLS_PLAYLIST_TYPE, JSON_TYPE } from '../../shared/media-types.ts';
import { newRecordingId, type RecordingDocument, type RecordingState } from '../../shared/recordings/recording-document.ts';
import { recordingObjectKey, recordingUrls, type RecordingObjectRef, type RecordingUrls } from '../../shared/recordings/recording-layout.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import type { CmafTrack } from '../package/cmaf-track.ts';
import type { RenditionSummary } from '../publish/stream-manifests.ts';
import type { BackoffOptions } from '../upload/backoff.ts';
import { LatestWriter } from '../upload/latest-writer.ts';
import { buildRecordingDocument, buildRecordingMediaPlaylist, buildRecordingMpd, buildRecordingMultivariant, type RecordedRendition, type RecordedSegment, type ResumedRecording } from './recording-manifests.ts';

export interface StreamRecorderOptions {
  playbackId: string;
  store: ObjectStore;
  backoff: BackoffOptions;
  /** The stream's renditions (their ladder entries and measured rates, kept up to date by the output). */
  renditions: readonly RenditionSummary[];
  /** Nominal segment duration, seconds. */
  targetSegmentDuration: number;
  now: () => number;
  /** Days a recording is kept once it is ready (its document's expiresAt); unset or 0: until deleted. */
  keepDays?: number;
  /** The recording is complete and its documents are stored. */
  onReady?: (recording: RecordingDocument) => void;
}

/** A stream output that records (StreamOutputOptions.recording). */
export interface RecordingOptions {
  /** Days a recording is kept once ready; 0: until deleted. */
  keepDays: number;
  /** The recording is complete: its documents are stored. */
  onReady?: (recording: RecordingDocument) => void;
}

/** What the stream's status document says of its latest recording. */
export interface StatusRecording extends RecordingUrls {
  id: string;
  state: RecordingState;
}

// The document of a recording in progress is rewritten at most this often (a crash loses at most this much of its listing).
const CHECKPOINT_MS = 10_000;
const DAY_MS = 86_400_000;

interface RenditionRecord {
  summary: RenditionSummary;
  tracks: Map<string, CmafTrack>;
  initBytes: Map<string, number>;
  segments: RecordedSegment[];
}

export class StreamRecorder {
  private readonly options: StreamRecorderOptions;
  private id: string;
  private started: number;
  private readonly records = new Map<string, RenditionRecord>();
  private document: LatestWriter;
  private checkpointAt = 0;
  private stateValue: RecordingState = 'recording';

  constructor(options: StreamRecorderOptions) {
    this.options = options;
    this.started = options.now();
    this.id = newRecordingId(this.started);
    for (const summary of options.renditions) this.records.set(summary.rendition.name, { summary, tracks: new Map(), initBytes: new Map(), segments: [] });
    this.document = this.writer({ kind: 'recording-document' }, JSON_TYPE);
  }

  get recordingId(): string {
    return this.id;
  }

  get startedAt(): number {
    return this.started;
  }

  /**
   * Continues a recording a crashed sidecar left (recording-resume.ts): its id, start and
   * segments, before anything this sidecar lists. False (nothing changed) once this one has media.
   */
  resume(resumed: ResumedRecording): boolean {
    if (this.hasMedia) return false;
    this.id = resumed.recordingId;
    this.started = resumed.startedAt;
    this.document = this.writer({ kind: 'recording-document' }, JSON_TYPE);
    for (const [name, { segments, initBytes, tracks }] of resumed.renditions) {
      const record = this.records.get(name);
      if (!record) continue;
      record.segments.push(...segments);
      for (const [session, bytes] of initBytes) record.initBytes.set(session, bytes);
      for (const [session, track] of tracks) if (!record.tracks.has(session)) record.tracks.set(session, track);
    }
    return true;
  }

  get state(): RecordingState {
    return this.stateValue;
  }

  /** Anything recorded yet (a broadcast that never stored a segment leaves no recording). */
  get hasMedia(): boolean {
    return [...this.records.values()].some((record) => record.segments.some((segment) => !segment.gap));
  }

  /** For the stream's status document: the recording's id, state and URLs (root-relative). */
  statusRecording(): StatusRecording | undefined {
    if (!this.hasMedia) return undefined;
    return { id: this.id, state: this.stateValue, ...recordingUrls(this.options.playbackId, this.id) };
  }

  /** A session's init segment is stored. */
  initStored(rendition: string, session: string, track: CmafTrack, bytes: number): void {
    const record = this.record(rendition);
    record.tracks.set(session, track);
    record.initBytes.set(session, bytes);
  }

  /** A segment with stored media is listed by its rendition. */
  segmentListed(rendition: string, segment: RecordedSegment): void {
    if (this.stateValue === 'ready') return;
    const segments = this.record(rendition).segments;
    if (!segment.gap) {
      segments.push(segment);
      return;
    }
    // Media lost in an outage keeps its place as a gap (the renditions stay in step), decoding
    // with the init segment before it; a recording starts at its first media.
    const previous = segments.at(-1);
    if (previous) segments.push({ ...segment, initSession: previous.initSession, bytes: 0 });
  }

  /** Stores the document of the recording in progress, at most every CHECKPOINT_MS. */
  async checkpoint(): Promise<void> {
    if (this.stateValue === 'ready' || !this.hasMedia) return;
    const now = this.options.now();
    if (this.checkpointAt !== 0 && now - this.checkpointAt < CHECKPOINT_MS) return;
    this.checkpointAt = now;
    // Pushed on at every write: a recording whose sidecar died and was never taken up (never made
    // ready) expires keepDays after its last write instead of being kept for ever.
    await this.document.write(JSON.stringify(this.build('recording', undefined, this.expiry(now))));
  }

  /**
   * The broadcast is over (its reconnect window passed): the VOD playlists and MPD, then the
   * document as ready. `sessionClocks`: the wall clock at each session's media time zero (DASH
   * Period starts). Undefined when nothing was recorded.
   */
  async complete(sessionClocks: ReadonlyMap<string, number>): Promise<RecordingDocument | undefined> {
    if (this.stateValue === 'ready' || !this.hasMedia) return undefined;
    const renditions = this.recorded();
    const nominal = this.options.targetSegmentDuration;
    await Promise.all(
      renditions
        .filter((rendition) => rendition.segments.length > 0)
        .map((rendition) => this.writer({ kind: 'recording-media-playlist', rendition: rendition.rendition.name }, HLS_PLAYLIST_TYPE).write(renderMediaPlaylist(buildRecordingMediaPlaylist(rendition, nominal)))),
    );
    await this.writer({ kind: 'recording-multivariant' }, HLS_PLAYLIST_TYPE).write(renderMultivariantPlaylist(buildRecordingMultivariant(renditions)));
    const now = this.options.now();
    const clocks = new Map([...sessionClocks].filter(([, clock]) => Number.isFinite(clock)));
    await this.writer({ kind: 'recording-mpd' }, DASH_MPD_TYPE).write(renderMpd(buildRecordingMpd(renditions, { sessionClocks: clocks, now, nominalTargetSeconds: nominal })));
    const document = this.build('ready', now, this.expiry(now));
    await this.document.write(JSON.stringify(document));
    this.stateValue = 'ready';
    this.options.onReady?.(document);
    return document;
  }

  private expiry(from: number): number | undefined {
    const keepDays = this.options.keepDays ?? 0;
    return keepDays > 0 ? from + keepDays * DAY_MS : undefined;
  }

  private build(state: RecordingState, endedAt: number | undefined, expiresAt?: number): RecordingDocument {
    return buildRecordingDocument({ playbackId: this.options.playbackId, recordingId: this.id, state, startedAt: this.started, endedAt, expiresAt }, this.recorded());
  }

  private recorded(): RecordedRendition[] {
    return [...this.records.values()].map(({ summary, tracks, initBytes, segments }) => ({ ...summary, track: summary.track ?? tracks.values().next().value, tracks, initBytes, segments }));
  }

  private record(rendition: string): RenditionRecord {
    const record = this.records.get(rendition);
    if (!record) throw new Error(`unknown rendition ${rendition}`);
    return record;
  }

  private writer(ref: RecordingObjectRef, contentType: string): LatestWriter {
    return new LatestWriter(this.options.store, recordingObjectKey(this.options.playbackId, this.id, ref), contentType, this.options.backoff);
  }
}
