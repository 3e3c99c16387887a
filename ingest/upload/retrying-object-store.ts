/** Retries failed writes with exponential backoff and jitter, so a blip in storage loses nothing. */
import type { ByteRange, ObjectMetadata, ObjectStore, PutOptions, StoredObject } from '../../shared/storage/object-store.ts';

export interface RetryOptions {
  attempts: number;
  /** Milliseconds before the first retry; doubles after each. */
  initialDelayMs: number;
  onRetry?: (key: string, attempt: number, error: unknown) => void;
}

/** Errors may say they are permanent (`retryable: false`); anything else is worth another try. */
function isRetryable(error: unknown): boolean {
  return !(error instanceof Error && 'retryable' in error && error.retryable === false);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class RetryingObjectStore implements ObjectStore {
  private readonly inner: ObjectStore;
  private readonly options: RetryOptions;

  constructor(inner: ObjectStore, options: RetryOptions) {
    this.inner = inner;
    this.options = options;
  }

  async put(key: string, body: Uint8Array | string, options: PutOptions): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.inner.put(key, body, options);
      } catch (error) {
        if (attempt >= this.options.attempts || !isRetryable(error)) throw error;
        this.options.onRetry?.(key, attempt, error);
        const delay = this.options.initialDelayMs * 2 ** (attempt - 1);
        await sleep(delay / 2 + Math.random() * delay);
      }
    }
  }

  get(key: string, range?: ByteRange): Promise<StoredObject | null> {
    return this.inner.get(key, range);
  }

  head(key: string): Promise<ObjectMetadata | null> {
    return this.inner.head(key);
  }
}
