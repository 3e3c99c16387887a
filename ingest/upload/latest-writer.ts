/**
 * Writes one object that is replaced over and over (a live playlist): only the newest version
 * matters, so a write that fails or is overtaken is not repeated; the newest one is.
 */
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import { retryUntilStored, type BackoffOptions } from './backoff.ts';

export class LatestWriter {
  private readonly store: ObjectStore;
  private readonly key: string;
  private readonly contentType: string;
  private readonly backoff: BackoffOptions;
  private latest: string | undefined;
  private stored: string | undefined;
  private running: Promise<void> | undefined;
  private readonly now: () => number;
  /** When a version asked for began to wait (undefined: the newest is stored). */
  private waitingSince: number | undefined;
  /** Some version has been stored. */
  storedOnce = false;

  /** The newest version asked for is the one stored (or none was asked for). */
  get upToDate(): boolean {
    return this.latest === this.stored;
  }

  /** How long versions asked for have waited to be stored, milliseconds (0: the newest is stored). */
  get waitingMs(): number {
    return this.waitingSince === undefined ? 0 : this.now() - this.waitingSince;
  }

  constructor(store: ObjectStore, key: string, contentType: string, backoff: BackoffOptions, now: () => number = Date.now) {
    this.store = store;
    this.key = key;
    this.contentType = contentType;
    this.backoff = backoff;
    this.now = now;
  }

  /** Resolves once this version, or a newer one, is stored. */
  write(text: string): Promise<void> {
    this.latest = text;
    if (this.latest !== this.stored) this.waitingSince ??= this.now();
    this.running ??= this.flush().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async flush(): Promise<void> {
    while (this.latest !== undefined && this.latest !== this.stored) {
      // Each attempt takes the newest version: a retry never stores one already overtaken.
      this.stored = await retryUntilStored(async () => {
        const text = this.latest!;
        await this.store.put(this.key, text, { contentType: this.contentType });
        return text;
      }, this.backoff);
      this.storedOnce = true;
    }
    this.waitingSince = undefined;
  }
}
