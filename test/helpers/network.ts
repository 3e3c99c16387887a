/** Loopback helpers for tests that start servers. */

// Tests and scripts take free ports the same way.
export { freePort } from '../../scripts/lib/free-port.ts';

/**
 * Awaits `promise`, or throws naming `what` after `timeoutMs`: a step that hangs fails on its own
 * name instead of running into the test's timeout, which says nothing of where it stood.
 */
export async function within<T>(what: string, timeoutMs: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Polls `check` until it returns a value, or throws after the timeout with the last reason. A check
 * that hangs counts against the timeout too.
 */
export async function eventually<T>(what: string, timeoutMs: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await within(`one check of ${what}`, Math.max(1, deadline - Date.now()), check());
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
}
