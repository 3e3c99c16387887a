/** A storage request that failed with an HTTP status: whether retrying can help follows from it. */
export class StorageHttpError extends Error {
  override name = 'StorageHttpError';
  readonly status: number;

  constructor(message: string, status: number) {
    super(message);
    this.status = status;
  }

  /** Server trouble, timeouts and rate limits pass; a refusal (bad secret, bad key) stays a refusal. */
  get retryable(): boolean {
    return this.status >= 500 || this.status === 408 || this.status === 429;
  }
}
