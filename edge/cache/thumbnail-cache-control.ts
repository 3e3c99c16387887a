/**
 * Cache-Control of a thumbnail, pure: while the stream is live, a cache keeps it until the next
 * one is due (from the capture time the picture carries), at least a second; once the stream
 * ended, a minute (the id may go live again). A signed stream's stays in the viewer's own cache
 * only, and never longer than the viewer's token lives.
 */
import type { StreamStatus } from '../../shared/stream-status.ts';
import { THUMBNAIL_INTERVAL_MS } from '../../shared/thumbnail/thumbnail-sizes.ts';

const ENDED_MAX_AGE = 60;

export interface ThumbnailCacheFacts {
  /** Epoch ms, from the picture; undefined: unknown (the shortest life). */
  capturedAt: number | undefined;
  now: number;
  state: StreamStatus['state'];
  /** Seconds the viewer's playback token still lives; undefined: a public stream. */
  tokenSecondsLeft?: number;
}

/** Seconds until the next thumbnail is due (1 to the interval), or the ended stream's longer life. */
export function thumbnailMaxAge({ capturedAt, now, state }: Pick<ThumbnailCacheFacts, 'capturedAt' | 'now' | 'state'>): number {
  if (state === 'ended') return ENDED_MAX_AGE;
  if (capturedAt === undefined) return 1;
  const left = Math.ceil((capturedAt + THUMBNAIL_INTERVAL_MS - now) / 1000);
  return Math.max(1, Math.min(THUMBNAIL_INTERVAL_MS / 1000, left));
}

export function thumbnailCacheControl(facts: ThumbnailCacheFacts): string {
  const maxAge = thumbnailMaxAge(facts);
  if (facts.tokenSecondsLeft === undefined) return `public, max-age=${maxAge}`;
  return `private, max-age=${Math.max(0, Math.min(maxAge, Math.floor(facts.tokenSecondsLeft)))}`;
}
