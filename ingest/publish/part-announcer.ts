/**
 * Announces each CMAF chunk as a low-latency HLS part the moment it is complete, over the
 * stream's live channel to the edge. Best effort, never retried: a late part is worth nothing,
 * and the segment it belongs to is stored and listed whatever happens to its parts.
 */
import type { PartAnnouncement } from '../../shared/low-latency.ts';
import { contentTypeFor } from '../../shared/media-types.ts';
import { partFile, streamObjectKey, type StreamObjectRef } from '../../shared/storage/layout.ts';
import type { ChunkPosition, CmafChunk } from '../package/cmaf-segmenter.ts';
import type { CmafTrack } from '../package/cmaf-track.ts';
import type { PartSink } from '../upload/part-sink.ts';

export interface PartAnnouncerMetrics {
  partAnnounced(): void;
  partFailed(): void;
}

export interface PartAnnouncerOptions {
  streamId: string;
  sink: PartSink;
  /** Seconds: no chunk (part) lasts longer. */
  partTarget: number;
  now: () => number;
  /** Parts could not be announced (now and then, with a count): low-latency viewers wait longer, nothing is lost. */
  onTrouble: (message: string) => void;
  metrics?: PartAnnouncerMetrics;
}

// Parts are worth sending only while they are new: beyond this many waiting per rendition
// (the edge is slow or down) the newest are skipped, not queued.
const MAX_PARTS_IN_FLIGHT = 4;
const PART_ERROR_LOG_INTERVAL_MS = 10_000;

interface RenditionParts {
  /** The segment being cut, as its parts name and number it. */
  open?: { session: string; time: number; sequence: number };
  chain: Promise<void>;
  inFlight: number;
}

export class PartAnnouncer {
  private readonly options: PartAnnouncerOptions;
  private readonly renditions = new Map<string, RenditionParts>();
  private errors = 0;
  private lastErrorLog = 0;

  constructor(options: PartAnnouncerOptions) {
    this.options = options;
  }

  /**
   * Sends one chunk as a part. `sequence` is the media sequence number its segment will have,
   * asked for at the segment's first chunk only (undefined: not known yet, so none of that
   * segment's parts are announced). Its hint names the part expected next.
   */
  announce(rendition: string, session: string, chunk: CmafChunk, position: ChunkPosition, track: CmafTrack, sequence: () => number | undefined): void {
    let state = this.renditions.get(rendition);
    if (!state) this.renditions.set(rendition, (state = { chain: Promise.resolve(), inFlight: 0 }));
    if (position.index === 0) {
      const number = sequence();
      state.open = number === undefined ? undefined : { session, time: position.segmentStartTime, sequence: number };
    }
    const open = state.open;
    // A segment whose first chunk was not announced is not announced at all.
    if (!open || open.session !== session || open.time !== position.segmentStartTime) return;
    if (state.inFlight >= MAX_PARTS_IN_FLIGHT) return this.failed(new Error(`${rendition}: the edge is not taking parts fast enough; skipped one`));
    const next = position.reachesBoundary ? partFile(session, chunk.startTime + chunk.duration, 0) : partFile(session, open.time, position.index + 1);
    const announcement: PartAnnouncement = {
      msn: open.sequence,
      duration: chunk.duration / track.timescale,
      independent: chunk.independent,
      next,
      partTarget: this.options.partTarget,
    };
    const ref: StreamObjectRef = { kind: 'part', rendition, session, time: open.time, index: position.index };
    const key = streamObjectKey(this.options.streamId, ref);
    const parts = state;
    parts.inFlight += 1;
    parts.chain = parts.chain
      .then(() => this.options.sink.putPart(key, chunk.bytes, contentTypeFor(ref, track.kind === 'audio'), announcement))
      .then(() => this.options.metrics?.partAnnounced())
      .catch((error: unknown) => this.failed(error))
      .finally(() => {
        parts.inFlight -= 1;
      });
  }

  /** Parts are best effort: failures are counted and reported now and then, not per part. */
  private failed(error: unknown): void {
    this.errors += 1;
    this.options.metrics?.partFailed();
    const now = this.options.now();
    if (now - this.lastErrorLog < PART_ERROR_LOG_INTERVAL_MS) return;
    this.lastErrorLog = now;
    const count = this.errors;
    this.errors = 0;
    this.options.onTrouble(`${count} low-latency part(s) not announced (latest: ${error instanceof Error ? error.message : String(error)}); segments are not affected`);
  }
}
