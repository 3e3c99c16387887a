/**
 * Announces each CMAF chunk as a low-latency HLS part the moment it is complete, over the
 * stream's live channel to the edge (ingest/upload/live-channel.ts): in order, never retried,
 * waiting while the channel is backed up and dropped only once older than the part lifetime
 * (the edge is told, so no player waits for it). The segment it belongs to is stored and listed
 * whatever happens to its parts.
 *
 * Each part names the one after it, which the edge hints and players hold a request for. When
 * that part will not be sent (its segment's parts are withheld, its run ended), the edge is told
 * at once, with why, so held requests get a 404 instead of waiting out the hold limit.
 */
import { contentTypeFor } from '../../shared/media-types.ts';
import { mediaSegmentFile, partFile, type StreamObjectRef } from '../../shared/storage/layout.ts';
import type { ChunkPosition, CmafChunk, CmafSegment } from '../package/cmaf-segmenter.ts';
import type { CmafTrack } from '../package/cmaf-track.ts';
import type { LiveChannelSink } from '../upload/part-sink.ts';
import type { AssemblyOutcome } from '../upload/upload-queue.ts';

export interface PartAnnouncerMetrics {
  partAnnounced(): void;
  partFailed(): void;
}

export interface PartAnnouncerOptions {
  playbackId: string;
  sink: LiveChannelSink;
  /** Seconds: no chunk (part) lasts longer. */
  partTarget: number;
  now: () => number;
  /** Parts could not be announced (now and then, with a count): low-latency viewers wait longer, nothing is lost. */
  onTrouble: (message: string) => void;
  metrics?: PartAnnouncerMetrics;
}

const PART_ERROR_LOG_INTERVAL_MS = 10_000;

/** A segment's media sequence number, or why its parts are withheld (none of them is announced). */
export type SegmentNumber = number | { withheld: string };

interface RenditionParts {
  /** The segment being cut, as its parts name and number it. */
  open?: { session: string; time: number; sequence: number; sent: CmafChunk['pieces'][] };
  /** The part the last one sent named as next, until it is sent or withdrawn: what the edge hints. */
  named?: string;
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
   * asked for at the segment's first chunk only (withheld: none of that segment's parts are
   * announced, and the part the edge hints in its place is withdrawn). Its hint names the part
   * expected next.
   */
  announce(rendition: string, session: string, chunk: CmafChunk, position: ChunkPosition, track: CmafTrack, sequence: () => SegmentNumber): void {
    let state = this.renditions.get(rendition);
    if (!state) this.renditions.set(rendition, (state = {}));
    if (position.index === 0) {
      const number = sequence();
      state.open = typeof number === 'number' ? { session, time: position.segmentStartTime, sequence: number, sent: [] } : undefined;
      if (typeof number !== 'number') this.withdraw(rendition, state, number.withheld);
    }
    const open = state.open;
    // A segment whose first chunk was not announced is not announced at all.
    if (!open || open.session !== session || open.time !== position.segmentStartTime) return;
    const next = position.reachesBoundary ? partFile(session, chunk.startTime + chunk.duration, 0) : partFile(session, open.time, position.index + 1);
    state.named = next;
    const ref: StreamObjectRef = { kind: 'part', rendition, session, time: open.time, index: position.index };
    open.sent.push(chunk.pieces);
    this.options.sink.sendPart(
      this.options.playbackId,
      {
        rendition,
        file: partFile(session, open.time, position.index),
        contentType: contentTypeFor(ref, track.kind === 'audio'),
        pieces: chunk.pieces,
        byteLength: chunk.byteLength,
        msn: open.sequence,
        duration: chunk.duration / track.timescale,
        independent: chunk.independent,
        next,
        partTarget: this.options.partTarget,
      },
      {
        sent: () => this.options.metrics?.partAnnounced(),
        dropped: (reason) => this.failed(new Error(`${rendition}: part dropped, ${reason}`)),
      },
    );
  }

  /**
   * How to have the edge store `segment` from its parts, when every one of them was handed to the
   * live channel as it is now (the same bytes, in order; a segment trimmed after its parts went
   * out is not), else undefined: the segment is uploaded whole.
   */
  assembly(rendition: string, session: string, segment: CmafSegment, contentType: string): (() => Promise<AssemblyOutcome>) | undefined {
    const sink = this.options.sink;
    const open = this.renditions.get(rendition)?.open;
    if (!sink.storeSegment || !open || open.session !== session || open.time !== segment.startTime) return undefined;
    const { chunks } = segment;
    if (open.sent.length !== chunks.length || chunks.some((chunk, index) => chunk.pieces !== open.sent[index])) return undefined;
    const message = {
      rendition,
      file: mediaSegmentFile(session, segment.startTime),
      parts: chunks.map((_, index) => partFile(session, segment.startTime, index)),
      byteLength: segment.byteLength,
      contentType,
    };
    return () => sink.storeSegment!(this.options.playbackId, message);
  }

  /** No part named as next so far will come (the publisher left, a new run began): the edge is told, once per part. */
  withdrawHints(reason: string): void {
    for (const [rendition, state] of this.renditions) this.withdraw(rendition, state, reason);
  }

  private withdraw(rendition: string, state: RenditionParts, reason: string): void {
    const named = state.named;
    if (!named) return;
    state.named = undefined;
    this.options.sink.withdrawPart(this.options.playbackId, rendition, named, reason);
  }

  private refusedSegments = 0;
  private lastRefusalLog = 0;

  /** The edge did not store a segment from its parts (it is uploaded instead): said now and then, with a count. */
  assemblyRefused(key: string, reason: string): void {
    this.refusedSegments += 1;
    const now = this.options.now();
    if (now - this.lastRefusalLog < PART_ERROR_LOG_INTERVAL_MS) return;
    this.lastRefusalLog = now;
    const count = this.refusedSegments;
    this.refusedSegments = 0;
    this.options.onTrouble(`${count} segment(s) not stored by the edge from their parts, uploaded instead (latest: ${key}: ${reason})`);
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
