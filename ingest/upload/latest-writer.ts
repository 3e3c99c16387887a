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
  /** Some version has been stored. */
  storedOnce = false;

  /** The newest version asked for is the one stored (or none was asked for). */
  get upToDate(): boolean {
    return this.latest === this.stored;
  }

  constructor(store: ObjectStore, key: string, contentType: string, backoff: BackoffOptions) {
    this.store = store;
    this.key = key;
    this.contentType = contentType;
    this.backoff = backoff;
  }

  /** Resolves once this version, or a newer one, is stored. */
  write(text: string): Promise<void> {
    this.latest = text;
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
  }
}
