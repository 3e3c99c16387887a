/**
 * A recording as one fragmented MP4 file, streamed: the tracks' init segments merged into one,
 * then every stored CMAF media segment of every track, interleaved by start time, each fetched
 * only when the reader wants more (a pull-based `ReadableStream`: one segment in flight, never
 * the whole file in memory), then an `mfra` index of the first track's sync points. Nothing is
 * re-encoded; only track ids, fragment sequence numbers and (after a reconnect) decode times are
 * rewritten, in place, so the file's exact length and layout are known from the stored sizes
 * before a segment is read (file-plan.ts), and any byte range of it can be made by reading only
 * the segments it covers.
 *
 * A broadcast with reconnects is several sessions, each with its own init segment and its own
 * timeline from zero: a later session's init must describe the same samples (same codec
 * configuration), and its fragments' decode times are moved to follow the earlier session's, as
 * HLS players place the segments after a discontinuity (by the summed segment durations).
 * Runtime-neutral (Workers, Node, Deno): Web streams and Uint8Array only.
 */
import { Mp4BoxError } from './box-reader.ts';
import { FRAGMENTS_PER_SEGMENT, planFile, trackTimeAt, type FilePlan, type PlannedSegment } from './file-plan.ts';
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
  /**
   * Reads one stored segment; called once per segment, in file order, as the reader pulls. A
   * session's first segment may be read once more when a byte range starts after it: its first
   * decode time places a later session and times the index.
   */
  readSegment(key: string): Promise<Uint8Array>;
  /** Announced in the init segment (mehd); the longest track's summed durations when unset. */
  durationSeconds?: number;
  /** Ends the file with an mfra index (default true). */
  randomAccessIndex?: boolean;
}

export interface ByteSpan {
  offset: number;
  length: number;
}

export interface RecordingMp4 {
  /** The file's exact length in bytes. */
  contentLength: number;
  tracks: TrackMapping[];
  /** A new stream of the whole file, or of `range` (inside it); each call reads the segments it needs again. */
  stream(range?: ByteSpan): ReadableStream<Uint8Array>;
}

export { interleaveSegments, type SegmentSlot } from './file-plan.ts';

export function recordingMp4(options: RecordingMp4Options): RecordingMp4 {
  const { tracks } = options;
  const longest = Math.max(0, ...tracks.map((track) => trackTimeAt(track, track.segments.length)));
  const merged = mergeInitSegments(tracks.map((track) => firstInit(track)), { durationSeconds: options.durationSeconds ?? longest });
  const sourceTrackIds = tracks.map((track) => sessionTrackIds(track));
  const indexed = options.randomAccessIndex ?? true;
  const plan = planFile(tracks, merged.bytes.length, indexed ? randomAccessIndexSize(tracks[0]?.segments.length ?? 0) : 0);
  return {
    contentLength: plan.contentLength,
    tracks: merged.tracks,
    stream: (range) => {
      const span = range ?? { offset: 0, length: plan.contentLength };
      if (span.offset < 0 || span.length < 0 || span.offset + span.length > plan.contentLength) throw new RangeError(`bytes ${span.offset}+${span.length} are not inside the file's ${plan.contentLength}`);
      return new FileMaker(options, merged.bytes, merged.tracks, sourceTrackIds, plan).stream(span);
    },
  };
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

/** One pass over (part of) the file: the pieces it is made of, each made when the reader wants it. */
class FileMaker {
  /** First decode time (as stored) of each track's sessions, `track:session`: where each session is moved from. */
  private readonly anchors = new Map<string, number>();
  private readonly options: RecordingMp4Options;
  private readonly init: Uint8Array;
  private readonly mappings: TrackMapping[];
  private readonly sourceTrackIds: number[][];
  private readonly plan: FilePlan;

  constructor(options: RecordingMp4Options, init: Uint8Array, mappings: TrackMapping[], sourceTrackIds: number[][], plan: FilePlan) {
    this.options = options;
    this.init = init;
    this.mappings = mappings;
    this.sourceTrackIds = sourceTrackIds;
    this.plan = plan;
  }

  stream(span: ByteSpan): ReadableStream<Uint8Array> {
    const end = span.offset + span.length;
    type Piece = { offset: number; length: number; make: () => Promise<Uint8Array> };
    const pieces: Piece[] = [
      { offset: 0, length: this.init.length, make: async () => this.init.slice() },
      ...this.plan.segments.map((planned) => ({ offset: planned.offset, length: planned.bytes, make: () => this.segment(planned) })),
      { offset: this.plan.indexOffset, length: this.plan.indexLength, make: () => this.index() },
    ].filter((piece) => piece.length > 0 && piece.offset < end && piece.offset + piece.length > span.offset);
    let next = 0;
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          const piece = pieces[next];
          if (!piece) {
            controller.close();
            return;
          }
          next += 1;
          const bytes = await piece.make();
          controller.enqueue(bytes.subarray(Math.max(0, span.offset - piece.offset), Math.min(piece.length, end - piece.offset)));
        },
      },
      // One piece ahead at most: a segment is read while the previous one is being sent.
      { highWaterMark: 1 },
    );
  }

  /** A stored segment, rewritten for its place in the file. */
  private async segment(planned: PlannedSegment): Promise<Uint8Array> {
    const ref = this.options.tracks[planned.track]!.segments[planned.segment]!;
    const mapping = this.mappings[planned.track]!;
    const bytes = await this.read(ref.key, ref.bytes);
    const session = ref.init ?? 0;
    if (this.plan.sessionFirstSegment[planned.track]![session] === planned.segment) this.anchors.set(`${planned.track}:${session}`, this.storedStart(bytes, ref.key));
    const rewritten = rewriteSegmentInPlace(bytes, {
      sourceTrackId: this.sourceTrackIds[planned.track]![session]!,
      trackId: mapping.trackId,
      firstSequenceNumber: planned.firstSequenceNumber,
      fileOffset: planned.offset,
      decodeTimeShift: await this.shift(planned.track, session),
    });
    if (rewritten.fragments.length > FRAGMENTS_PER_SEGMENT) throw new Mp4BoxError(`segment ${ref.key} has ${rewritten.fragments.length} fragments, more than ${FRAGMENTS_PER_SEGMENT}`);
    // The index points at each segment's first byte as its moof.
    if (rewritten.fragments[0]!.fileOffset !== planned.offset) throw new Mp4BoxError(`segment ${ref.key} does not start with its moof`);
    return bytes;
  }

  private async read(key: string, size: number): Promise<Uint8Array> {
    const bytes = await this.options.readSegment(key);
    // The length was promised up front: a stored object of another size ends the file with an error, not wrong bytes.
    if (bytes.length !== size) throw new Mp4BoxError(`segment ${key} is ${bytes.length} bytes, its recording says ${size}`);
    return bytes;
  }

  private storedStart(bytes: Uint8Array, key: string): number {
    const time = firstDecodeTime(bytes);
    if (time === undefined) throw new Mp4BoxError(`segment ${key} has no tfdt: it cannot be placed on the file's timeline`);
    return time;
  }

  /** The first decode time (as stored) of a track's session, reading its first segment when this pass has not. */
  private async anchor(track: number, session: number): Promise<number> {
    const known = this.anchors.get(`${track}:${session}`);
    if (known !== undefined) return known;
    const index = this.plan.sessionFirstSegment[track]![session]!;
    const ref = this.options.tracks[track]!.segments[index]!;
    const time = this.storedStart(await this.read(ref.key, ref.bytes), ref.key);
    this.anchors.set(`${track}:${session}`, time);
    return time;
  }

  /**
   * What a session's decode times move by: a later session's timeline starts again (at zero) and
   * is placed where the track's segments before it end by their stored durations (as HLS players
   * place segments after a discontinuity). The first session keeps its own.
   */
  private async shift(track: number, session: number): Promise<number> {
    if (session === 0) return 0;
    const startsAt = Math.round(this.plan.sessionStartSeconds[track]![session]! * this.mappings[track]!.timescale);
    return (await this.anchor(track, 0)) + startsAt - (await this.anchor(track, session));
  }

  /** The mfra: the first track's segments, each a sync point at its moof, timed by the stored durations. */
  private async index(): Promise<Uint8Array> {
    const first = this.options.tracks[0]!;
    const timescale = this.mappings[0]!.timescale;
    const offsets = new Map(this.plan.segments.filter((planned) => planned.track === 0).map((planned) => [planned.segment, planned.offset]));
    const origin = first.segments.length > 0 ? await this.anchor(0, 0) : 0;
    const entries: RandomAccessEntry[] = [];
    let seconds = 0;
    first.segments.forEach((segment, index) => {
      entries.push({ time: origin + Math.round(seconds * timescale), moofOffset: offsets.get(index)! });
      seconds += segment.durationSeconds;
    });
    return writeRandomAccessIndex(this.mappings[0]!.trackId, entries);
  }
}
