/** Retrying a storage write until it is stored, refused for good, or no longer wanted. */

export interface BackoffOptions {
  /** Milliseconds before the first retry; doubles after each, up to maxDelayMs, with jitter. */
  initialDelayMs: number;
  maxDelayMs: number;
  onRetry?: (attempt: number, error: unknown) => void;
}

/** Errors may say they are permanent (`retryable: false`, e.g. a wrong secret); anything else is worth another try. */
export function isRetryable(error: unknown): boolean {
  return !(error instanceof Error && 'retryable' in error && error.retryable === false);
}

export class GaveUp extends Error {
  override name = 'GaveUp';
}

/**
 * Runs `attempt` until it succeeds. Throws its error if the error is permanent, or GaveUp once
 * `stillWanted` says the result no longer matters (a dropped segment, a superseded playlist).
 */
export async function retryUntilStored<T>(attempt: () => Promise<T>, options: BackoffOptions, stillWanted: () => boolean = () => true): Promise<T> {
  for (let tries = 1; ; tries++) {
    if (!stillWanted()) throw new GaveUp('no longer wanted');
    try {
      return await attempt();
    } catch (error) {
      if (!isRetryable(error)) throw error;
      options.onRetry?.(tries, error);
      const delay = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** (tries - 1));
      await new Promise((resolve) => setTimeout(resolve, delay / 2 + Math.random() * (delay / 2)));
    }
  }
}
