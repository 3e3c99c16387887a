/** The page's own requests (the status document, a refused manifest's reason): never from a cache, never waited on for good. */

/**
 * How long the page waits for one of its own answers. The first status decides what plays (main.ts):
 * a request that hangs (a stalled connection, an edge under load) would otherwise leave the page
 * without a player, saying nothing.
 */
export const PAGE_FETCH_TIMEOUT_MS = 5000;

export function fetchFresh(url: string): Promise<Response> {
  return fetch(url, { cache: 'no-store', signal: AbortSignal.timeout(PAGE_FETCH_TIMEOUT_MS) });
}
