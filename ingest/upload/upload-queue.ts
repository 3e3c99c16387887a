/**
 * Ordered, bounded, retried uploads of one stream. Objects upload in parallel (up to a limit),
 * but each lane (a rendition) hands them back in the order they went in: its owner lists only
 * the settled head of a lane, so nothing is listed before what comes earlier. A slow or failing
 * store is retried without end while the buffer has room; when an outage outlasts it, the oldest
 * waiting droppable objects (media segments) are dropped instead of memory growing without bound.
 *
 * An object's bytes are a list of chunks (a segment is its parts): stores write them end to end
 * without joining them where they can (putChunks). A segment whose parts went out on the live
 * channel is first offered to the edge to store from them (`assemble`): media then crosses once;
 * when the edge does not store it (or does not answer in time) it is uploaded here as always.
 */
import { putChunks, type ObjectStore } from '../../shared/storage/object-store.ts';
import { GaveUp, retryUntilStored, type BackoffOptions } from './backoff.ts';
import { ConcurrencyLimit } from './concurrency-limit.ts';

export interface UploadLimits {
  /** Uploads in flight at once for one stream. */
  parallelUploads: number;
  /** Bytes of segments waiting to be stored before the oldest are dropped. */
  bufferBytes: number;
  backoff: BackoffOptions;
}

export const DEFAULT_UPLOAD_LIMITS: UploadLimits = {
  parallelUploads: 4,
  bufferBytes: 256 * 1024 * 1024,
  backoff: { initialDelayMs: 250, maxDelayMs: 5000 },
};

/** What became of a segment offered to the edge to store from its parts. */
export type AssemblyOutcome = { stored: true } | { stored: false; reason: string };

export interface Upload {
  key: string;
  /** The object's bytes, end to end (one chunk, or a segment's parts). */
  chunks: readonly Uint8Array[];
  /** Bytes of all chunks together. */
  byteLength: number;
  contentType: string;
  /**
   * Asks the edge to store the object from the parts it holds (the live channel); settles, never
   * rejects, within a bounded time. Not stored: the object is uploaded as any other.
   */
  assemble?: () => Promise<AssemblyOutcome>;
  /** Counts against the upload buffer and may be dropped when storage falls behind (media segments). */
  droppable: boolean;
  /** What the object is, for the upload-time metric (`init`, `segment`). */
  label: string;
}

export type UploadState = 'uploading' | 'stored' | 'dropped';

/** One object in a lane, with whatever its owner needs to list it. */
export interface QueuedUpload<T> {
  readonly value: T;
  readonly upload: Upload;
  state: UploadState;
  readonly enqueuedAt: number;
  /** Its bytes still count against the buffer. */
  buffered: boolean;
}

export interface UploadQueueMetrics {
  /** One upload of `label` begins; the function returned is called once it is stored. */
  timeUpload(label: string): () => void;
  segmentDropped(): void;
  /** A segment the edge stored from its parts (`true`) or did not (uploaded instead). */
  segmentAssembled?(stored: boolean): void;
}

export interface UploadQueueOptions {
  store: ObjectStore;
  limits: UploadLimits;
  /** Epoch milliseconds. */
  now: () => number;
  /** Waiting longer than this (milliseconds) for storage is worth a warning. */
  backlogWarningMs: number;
  /** Something could not be stored and will not be (a refusal, a drop). */
  onError: (error: unknown) => void;
  /** Storage is behind: the oldest waiting droppable object has waited `waitingSeconds`. */
  onBacklog?: (waitingSeconds: number, waitingCount: number) => void;
  /** A segment the edge did not store from its parts, and why (it is uploaded instead). */
  onAssemblyRefused?: (key: string, reason: string) => void;
  /** An upload of the lane settled (stored, dropped or refused): the owner takes the lane's settled head. */
  onSettled: (lane: string) => Promise<void>;
  metrics?: UploadQueueMetrics;
}

const BACKLOG_WARNING_INTERVAL_MS = 10_000;

export class UploadQueue<T> {
  private readonly options: UploadQueueOptions;
  private readonly lanes = new Map<string, QueuedUpload<T>[]>();
  private readonly limit: ConcurrencyLimit;
  private bufferedBytes = 0;
  private lastBacklogWarning = 0;
  /** Uploads and the listing that follows each, until both are done. */
  private readonly settled = new Set<Promise<void>>();

  constructor(options: UploadQueueOptions) {
    this.options = options;
    this.limit = new ConcurrencyLimit(options.limits.parallelUploads);
  }

  enqueue(lane: string, upload: Upload, value: T): void {
    const queued: QueuedUpload<T> = { value, upload, state: 'uploading', enqueuedAt: this.options.now(), buffered: upload.droppable };
    const queue = this.lanes.get(lane) ?? [];
    this.lanes.set(lane, queue);
    queue.push(queued);
    if (queued.buffered) this.bufferedBytes += upload.byteLength;
    this.dropOldestBeyondBuffer();
    const done = this.store(queued)
      .then(() => this.options.onSettled(lane))
      .catch((error: unknown) => this.options.onError(error))
      .finally(() => this.settled.delete(done));
    this.settled.add(done);
    if (upload.droppable) this.warnWhenBehind();
  }

  /** The settled objects at the head of a lane, oldest first, taken out of it: what may be listed now. */
  takeSettled(lane: string): QueuedUpload<T>[] {
    const queue = this.lanes.get(lane) ?? [];
    let count = 0;
    while (count < queue.length && queue[count]!.state !== 'uploading') count += 1;
    return queue.splice(0, count);
  }

  /** What a lane still holds (uploading, or settled behind an object still uploading), oldest first. */
  waiting(lane: string): readonly QueuedUpload<T>[] {
    return this.lanes.get(lane) ?? [];
  }

  /** How long the oldest segment still uploading has waited, milliseconds (0: storage keeps up). */
  behindMs(): number {
    const waiting = this.waitingDroppable();
    return waiting.length === 0 ? 0 : this.options.now() - Math.min(...waiting.map((queued) => queued.enqueuedAt));
  }

  /** Another storage task (a deletion) within the same limit of requests in flight. */
  run<R>(task: () => Promise<R>): Promise<R> {
    return this.limit.run(task);
  }

  /** Resolves when every upload handed over so far is stored, dropped or refused, and its lane's owner has listed it. */
  async idle(): Promise<void> {
    while (this.settled.size > 0) await Promise.all([...this.settled]);
  }

  private async store(queued: QueuedUpload<T>): Promise<void> {
    await this.limit.run(async () => {
      const { key, chunks, contentType, label, assemble } = queued.upload;
      const timer = this.options.metrics?.timeUpload(label);
      try {
        if (assemble && (await this.assembled(key, assemble))) {
          if (queued.state === 'uploading') queued.state = 'stored';
          timer?.();
          return;
        }
        await retryUntilStored(() => putChunks(this.options.store, key, chunks, { contentType }), this.options.limits.backoff, () => queued.state !== 'dropped');
        // Dropped while its last attempt was in flight: stored, but it stays dropped (its owner lists it as missing).
        if (queued.state === 'uploading') queued.state = 'stored';
        timer?.();
      } catch (error) {
        if (!(error instanceof GaveUp)) {
          this.options.onError(error);
          this.drop(queued);
        }
      } finally {
        this.unbuffer(queued);
      }
    });
  }

  /** Whether the edge stored the object from its parts; why not is reported, and the caller uploads it. */
  private async assembled(key: string, assemble: () => Promise<AssemblyOutcome>): Promise<boolean> {
    const outcome = await assemble().catch((error: unknown): AssemblyOutcome => ({ stored: false, reason: error instanceof Error ? error.message : String(error) }));
    this.options.metrics?.segmentAssembled?.(outcome.stored);
    if (!outcome.stored) this.options.onAssemblyRefused?.(key, outcome.reason);
    return outcome.stored;
  }

  private unbuffer(queued: QueuedUpload<T>): void {
    if (!queued.buffered) return;
    queued.buffered = false;
    this.bufferedBytes -= queued.upload.byteLength;
  }

  private drop(queued: QueuedUpload<T>): void {
    if (queued.state === 'dropped') return;
    this.unbuffer(queued);
    queued.state = 'dropped';
    if (queued.upload.droppable) this.options.metrics?.segmentDropped();
  }

  private waitingDroppable(): QueuedUpload<T>[] {
    return [...this.lanes.values()].flatMap((queue) => queue.filter((queued) => queued.upload.droppable && queued.state === 'uploading'));
  }

  /** An outage longer than the buffer: the oldest waiting segments go, not memory without bound. */
  private dropOldestBeyondBuffer(): void {
    if (this.bufferedBytes <= this.options.limits.bufferBytes) return;
    const waiting = this.waitingDroppable().sort((a, b) => a.enqueuedAt - b.enqueuedAt);
    let dropped = 0;
    for (const queued of waiting) {
      if (this.bufferedBytes <= this.options.limits.bufferBytes) break;
      this.drop(queued);
      dropped += 1;
    }
    if (dropped > 0) {
      this.options.onError(new Error(`storage is not keeping up: dropped the ${dropped} oldest waiting segment(s) to stay within the upload buffer; the playlist marks the gap`));
    }
  }

  private warnWhenBehind(): void {
    const now = this.options.now();
    const behindMs = this.behindMs();
    if (behindMs > this.options.backlogWarningMs && now - this.lastBacklogWarning > BACKLOG_WARNING_INTERVAL_MS) {
      this.lastBacklogWarning = now;
      this.options.onBacklog?.(behindMs / 1000, this.waitingDroppable().length);
    }
  }
}
