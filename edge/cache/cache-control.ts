/**
 * The edge's cache policy, pure: Cache-Control per object kind and stream state (what lets a CDN
 * carry the viewers), and how long the edge keeps its own copy of a stored object.
 */
import { parseStreamObjectKey, type StreamObjectKind } from '../../shared/storage/layout.ts';

export const IMMUTABLE = 'public, max-age=31536000, immutable';
export const NO_STORE = 'no-store';

// An ended stream's playlist is VOD, but the same stream id may go live again (open mode, a
// streamer starting a new broadcast), so "long" stays a minute, not a year.
const ENDED_PLAYLIST_MAX_AGE = 60;
// Renditions can change when a publisher reconnects with other settings.
const MULTIVARIANT_MAX_AGE = 2;

export interface PlaylistState {
  ended: boolean;
  /** Seconds, from EXT-X-TARGETDURATION. */
  targetDuration: number | undefined;
}

export function cacheControlFor(kind: StreamObjectKind, playlist?: PlaylistState): string {
  switch (kind) {
    case 'init':
    case 'segment':
    // A part's name is never reused for other bytes either.
    case 'part':
      return IMMUTABLE;
    case 'multivariant':
      return `public, max-age=${MULTIVARIANT_MAX_AGE}`;
    case 'status':
      return 'public, max-age=1';
    // Replaced every few seconds; routes/thumbnail.ts answers with its age (thumbnail-cache-control.ts).
    case 'thumbnail':
      return 'public, max-age=1';
    case 'mpd':
    case 'media-playlist': {
      if (playlist?.ended) return `public, max-age=${ENDED_PLAYLIST_MAX_AGE}`;
      // At most half a target duration, so a viewer never misses a whole segment's update.
      const maxAge = Math.max(1, Math.floor((playlist?.targetDuration ?? 2) / 2));
      return `public, max-age=${maxAge}, stale-while-revalidate=${maxAge}`;
    }
  }
}

/**
 * Cache-Control of a signed stream's responses. Its playlists carry the viewer's token in every
 * URI: no cache may keep or share them. Its media may stay in the viewer's own cache, never
 * longer than the token that fetched it lives; no shared cache keeps them, so a cache that
 * leaves the query out of its key cannot hand them to someone without a token.
 */
export function signedCacheControlFor(kind: StreamObjectKind, tokenSecondsLeft: number): string {
  switch (kind) {
    case 'init':
    case 'segment':
    case 'part':
      return `private, max-age=${Math.max(0, Math.min(Math.floor(tokenSecondsLeft), 86_400))}`;
    case 'multivariant':
    case 'media-playlist':
    case 'mpd':
    case 'status':
      return 'private, no-store';
    case 'thumbnail':
      return `private, max-age=${Math.max(0, Math.min(Math.floor(tokenSecondsLeft), 1))}`;
  }
}

/**
 * Seconds the edge keeps its own copy of a stored object (the runtime cache behind
 * CachedObjectStore): media never changes under its name, a day; documents (playlists, MPD,
 * status) change every segment, a second, the freshness their Cache-Control allows.
 */
export function edgeCopySecondsFor(key: string): number {
  const kind = parseStreamObjectKey(key)?.ref.kind;
  return kind === 'segment' || kind === 'init' ? 86_400 : 1;
}
