/** The stream's live channel to the edge: where low-latency parts go the moment they are complete (never to storage). */
import type { PartAnnouncement } from '../../shared/low-latency.ts';

export interface PartSink {
  putPart(key: string, bytes: Uint8Array, contentType: string, announcement: PartAnnouncement): Promise<void>;
}
