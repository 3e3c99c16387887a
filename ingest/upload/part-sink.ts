/** Where low-latency parts go the moment they are complete (never to storage). */
import type { PartAnnouncement } from '../../shared/low-latency.ts';
import type { SegmentMessage } from '../../shared/live-channel-protocol.ts';
import type { PartReport } from './live-channel.ts';
import type { OutgoingPart } from './live-channel-queue.ts';
import type { AssemblyOutcome } from './upload-queue.ts';

/** A segment named by its parts, for the edge to store from them (the protocol's `segment` message without its type). */
export type SegmentAssembly = Omit<SegmentMessage, 'type'>;

/** The streams' live channels to the edge (live-channels.ts): parts in order, one channel per stream. */
export interface LiveChannelSink {
  sendPart(playbackId: string, part: OutgoingPart, report: PartReport): void;
  /** A part a sent one named as next (the edge's preload hint) will not be sent: whoever waits for it gets a 404 with `reason` at once. */
  withdrawPart(playbackId: string, rendition: string, file: string, reason: string): void;
  /**
   * Asks the edge to store a segment from the parts sent for it (in order after them); settles
   * within a bounded time, `stored: false` with why when the edge did not (the caller uploads it).
   */
  storeSegment?(playbackId: string, segment: SegmentAssembly): Promise<AssemblyOutcome>;
}

/**
 * The write API's per-part PUT (EdgeObjectStore), kept for other clients: the sidecar sends
 * parts over its live channels.
 */
export interface PartSink {
  putPart(key: string, bytes: Uint8Array, contentType: string, announcement: PartAnnouncement): Promise<void>;
}
