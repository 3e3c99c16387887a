/**
 * Deletes a stream's media once it has left the live window (retention `window`): only after a
 * window's time has passed (players may still hold an older playlist) and only while every
 * manifest's newest version is stored (during an outage a stored playlist may still list it).
 */
import { StorageHttpError } from '../../shared/storage/storage-error.ts';

export type Retention = 'window' | 'all';

export interface RetentionSweeperOptions {
  /** Deletes one object (within the stream's limit of storage requests in flight). */
  remove: (key: string) => Promise<void>;
  /** Whether every manifest's newest version is stored. */
  manifestsUpToDate: () => boolean;
  /** Milliseconds an object stays after it left every manifest. */
  graceMs: number;
  now: () => number;
  onError: (error: unknown) => void;
  onDeleted?: () => void;
}

// Media due for deletion is looked for this often when nothing else happens.
const RETENTION_CHECK_MS = 2_000;

export class RetentionSweeper {
  private readonly options: RetentionSweeperOptions;
  /** Media out of every manifest, waiting to be deleted. */
  private retired: { key: string; since: number }[] = [];
  private deleting = false;
  /** Runs deletions when they fall due, also when nothing new is listed (a paused or ended stream). */
  private timer: NodeJS.Timeout | undefined;

  constructor(options: RetentionSweeperOptions) {
    this.options = options;
  }

  retire(key: string): void {
    this.retired.push({ key, since: this.options.now() });
    if (!this.timer) {
      this.timer = setInterval(() => void this.sweep().catch((error: unknown) => this.options.onError(error)), RETENTION_CHECK_MS);
      this.timer.unref();
    }
  }

  /** Deletes what is due. */
  async sweep(): Promise<void> {
    if (this.retired.length === 0) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    if (this.deleting || this.retired.length === 0) return;
    if (!this.options.manifestsUpToDate()) return;
    const cutoff = this.options.now() - this.options.graceMs;
    const due = this.retired.filter((item) => item.since <= cutoff);
    if (due.length === 0) return;
    this.retired = this.retired.filter((item) => item.since > cutoff);
    this.deleting = true;
    try {
      for (const item of due) {
        try {
          await this.options.remove(item.key);
          this.options.onDeleted?.();
        } catch (error) {
          // Storage trouble: tried again with the next batch. A refusal will not change: left stored.
          if (!(error instanceof StorageHttpError) || error.retryable) this.retired.push(item);
          this.options.onError(error);
        }
      }
    } finally {
      this.deleting = false;
    }
  }
}
