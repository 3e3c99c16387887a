/**
 * A recording as one fragmented MP4 file, streamed: the tracks' init segments merged into one,
 * then every stored CMAF media segment of every track, interleaved by start time, each fetched
 * only when the reader wants more (a pull-based `ReadableStream`: one segment in flight, never
 * the whole file in memory), then an `mfra` index of the first track's sync points. Nothing is
 * re-encoded; only track ids and fragment sequence numbers are rewritten, in place, so the
 * file's exact length is known from the stored sizes before a segment is read.
 *
 * A broadcast with reconnects is several sessions, each with its own init segment and its own
 * timeline from zero: a later session's init must describe the same samples (same codec
 * configuration), and its fragments' decode times are moved to follow the earlier session's, as
 * HLS players place the segments after a discontinuity (by the summed segment durations).
 * Runtime-neutral (Workers, Node, Deno): Web streams and Uint8Array only.
 */
import { Mp4BoxError } from './box-reader.ts';
import { firstDecodeTime, rewriteSegmentInPlace } from './fragment-rewrite.ts';
import { continuationOf, mergeInitSegments, type TrackMapping } from './merge-init.ts';
import { randomAccessIndexSize, writeRandomAccessIndex, type RandomAccessEntry } from './random-access-index.ts';

export interface StoredSegmentRef {
  key: string;
  durationSeconds: number;
  /** The stored object's size: the file's length is computed from it, and each read is checked against it. */
  bytes: number;
  /** Index in its track's `inits` of the init segment it decodes with (default 0). */
  init?: number;
}

export interface Mp4TrackInput {
  /** The track's CMAF init segments (one track each), one per session; the first describes the track. */
  inits: readonly Uint8Array[];
  segments: readonly StoredSegmentRef[];
}

/** The recording cannot be one MP4 without re-encoding (a reconnect changed the codec configuration). */
export class RecordingNotMuxable extends Error {
  override name = 'RecordingNotMuxable';
}

export interface RecordingMp4Options {
  /** Video first: the first track's segments make the seek index. */
  tracks: readonly Mp4TrackInput[];
  /** Reads one stored segment; called once per segment, in file order, as the reader pulls. */
  readSegment(key: string): Promise<Uint8Array>;
  /** Announced in the init segment (mehd); the longest track's summed durations when unset. */
  durationSeconds?: number;
  /** Ends the file with an mfra index (default true). */
  randomAccessIndex?: boolean;
}

export interface RecordingMp4 {
  /** The file's exact length in bytes. */
  contentLength: number;
  tracks: TrackMapping[];
  /** A new stream of the whole file (each call reads the segments again). */
  stream(): ReadableStream<Uint8Array>;
}

export interface SegmentSlot {
  track: number;
  segment: number;
  /** Seconds from the recording's start, summed from the stored durations. */
  start: number;
}

/** Every segment of every track, ordered by start time (ties: the earlier track first). Pure. */
export function interleaveSegments(tracks: readonly { segments: readonly { durationSeconds: number }[] }[]): SegmentSlot[] {
  const slots: SegmentSlot[] = [];
  tracks.forEach((track, trackIndex) => {
    let start = 0;
    track.segments.forEach((segment, segmentIndex) => {
      slots.push({ track: trackIndex, segment: segmentIndex, start });
      start += segment.durationSeconds;
    });
  });
  return slots.sort((a, b) => a.start - b.start || a.track - b.track || a.segment - b.segment);
}

export function recordingMp4(options: RecordingMp4Options): RecordingMp4 {
  const { tracks } = options;
  const longest = Math.max(0, ...tracks.map((track) => track.segments.reduce((sum, segment) => sum + segment.durationSeconds, 0)));
  const merged = mergeInitSegments(tracks.map((track) => firstInit(track)), { durationSeconds: options.durationSeconds ?? longest });
  const sourceTrackIds = tracks.map((track) => sessionTrackIds(track));
  const order = interleaveSegments(tracks);
  const indexed = options.randomAccessIndex ?? true;
  const indexEntries = indexed ? (tracks[0]?.segments.length ?? 0) : 0;
  const mediaBytes = tracks.reduce((sum, track) => sum + track.segments.reduce((bytes, segment) => bytes + segment.bytes, 0), 0);
  const contentLength = merged.bytes.length + mediaBytes + (indexed ? randomAccessIndexSize(indexEntries) : 0);
  return { contentLength, tracks: merged.tracks, stream: () => mp4Stream(options, merged.bytes, merged.tracks, sourceTrackIds, order, indexed) };
}

function firstInit(track: Mp4TrackInput): Uint8Array {
  const init = track.inits[0];
  if (!init) throw new RecordingNotMuxable('a track without an init segment');
  return init;
}

/** The track id each session's fragments carry, after checking each later session continues the first. */
function sessionTrackIds(track: Mp4TrackInput): number[] {
  const first = firstInit(track);
  for (const segment of track.segments) {
    if ((segment.init ?? 0) >= track.inits.length) throw new RecordingNotMuxable(`segment ${segment.key} names init segment ${segment.init}, of ${track.inits.length}`);
  }
  return track.inits.map((init) => {
    const continuation = continuationOf(first, init);
    if (!continuation.ok) throw new RecordingNotMuxable(continuation.reason);
    return continuation.sourceTrackId;
  });
}

/** Where a track's timeline is: the session its last segment was of, the shift applied to it, and where its next segment should start. */
interface TrackTimeline {
  session: number;
  shift: number;
  /** Decode time (track timescale, on the file's timeline) the next segment starts at, by the stored durations. */
  expectedNext: number | undefined;
}

function mp4Stream(options: RecordingMp4Options, init: Uint8Array, mappings: TrackMapping[], sourceTrackIds: number[][], order: SegmentSlot[], indexed: boolean): ReadableStream<Uint8Array> {
  const timelines: TrackTimeline[] = mappings.map(() => ({ session: 0, shift: 0, expectedNext: undefined }));
  let next = -1;
  let fileOffset = 0;
  let sequenceNumber = 1;
  const index: RandomAccessEntry[] = [];
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (next === -1) {
          next = 0;
          fileOffset = init.length;
          // A copy: the merged init is shared by every stream of this recording.
          controller.enqueue(init.slice());
          return;
        }
        const slot = order[next];
        if (!slot) {
          if (indexed) controller.enqueue(writeRandomAccessIndex(mappings[0]!.trackId, index));
          controller.close();
          return;
        }
        next += 1;
        const ref = options.tracks[slot.track]!.segments[slot.segment]!;
        const mapping = mappings[slot.track]!;
        const bytes = await options.readSegment(ref.key);
        // The length was promised up front: a stored object of another size ends the file with an error, not wrong bytes.
        if (bytes.length !== ref.bytes) throw new Mp4BoxError(`segment ${ref.key} is ${bytes.length} bytes, its recording says ${ref.bytes}`);
        const timeline = timelines[slot.track]!;
        const session = ref.init ?? 0;
        if (session !== timeline.session) {
          // A new session's timeline starts again (at zero): it continues where the last one's segments end.
          const stored = firstDecodeTime(bytes);
          if (stored === undefined) throw new Mp4BoxError(`segment ${ref.key} has no tfdt: its session cannot be placed after the previous one`);
          timeline.session = session;
          timeline.shift = (timeline.expectedNext ?? stored) - stored;
        }
        const rewritten = rewriteSegmentInPlace(bytes, {
          sourceTrackId: sourceTrackIds[slot.track]![session]!,
          trackId: mapping.trackId,
          firstSequenceNumber: sequenceNumber,
          fileOffset,
          decodeTimeShift: timeline.shift,
        });
        const start = rewritten.fragments[0]!.decodeTime;
        if (start !== undefined) timeline.expectedNext = start + Math.round(ref.durationSeconds * mapping.timescale);
        sequenceNumber = rewritten.nextSequenceNumber;
        if (indexed && slot.track === 0) {
          const first = rewritten.fragments[0]!;
          // A fragment without tfdt: its time from the stored durations.
          index.push({ time: first.decodeTime ?? Math.round(slot.start * mapping.timescale), moofOffset: first.fileOffset });
        }
        fileOffset += bytes.length;
        controller.enqueue(bytes);
      },
    },
    // One chunk ahead at most: a segment is read while the previous one is being sent.
    { highWaterMark: 1 },
  );
}
