/**
 * What a stream's output counts, as callbacks its owner wires to the sidecar's metrics: the
 * publishing code measures, the api/ layer decides how it is exported.
 */
import type { UploadQueueMetrics } from '../upload/upload-queue.ts';
import type { PartAnnouncerMetrics } from './part-announcer.ts';

export interface OutputMetrics extends UploadQueueMetrics, PartAnnouncerMetrics {
  segmentStored(kind: 'video' | 'audio'): void;
  /** Retention deleted an object. */
  objectDeleted(): void;
}
