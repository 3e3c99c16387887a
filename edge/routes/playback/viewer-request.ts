/** What every playback handler family is given: the routes' dependencies and one viewer's request, already parsed and authorized. */
import type { Context } from 'hono';
import type { ObjectStore } from '../../../shared/storage/object-store.ts';
import type { StreamObjectRef } from '../../../shared/storage/layout.ts';
import type { StreamStatus } from '../../../shared/stream-status.ts';
import type { PlaybackQuery } from '../../manifest/playback-rewrite.ts';
import type { LowLatencyCoordinator } from '../../low-latency/coordinator.ts';
import type { KeepAlive } from '../../low-latency/joined-waits.ts';

export interface PlaybackRouteOptions {
  store: ObjectStore;
  playbackSecret?: string;
  /** CDN base for segments (`…/live/`): a stream's objects are under `BASE ID/REND/`. */
  segmentBaseUrl?: string;
  now?: () => number;
  /** Low-latency live state: media playlists of streams that announce parts come from it. */
  lowLatency?: LowLatencyCoordinator;
  /**
   * The request's keep-alive for work that outlives its answer (Workers: keepAliveOf, its
   * execution context). Default: none, as on Node and Deno, whose requests have no execution
   * context to look for (asking Hono for one throws: an exception per low-latency request).
   */
  keepAlive?: (c: Context) => KeepAlive | undefined;
}

export type PlaybackDeps = PlaybackRouteOptions & { now: () => number };

/** A request for one object of a stream (`/live/ID/PATH`). */
export interface ObjectRequest<Ref extends StreamObjectRef = StreamObjectRef> {
  c: Context;
  playbackId: string;
  /** The path under `/live/ID/`, as requested. */
  path: string;
  ref: Ref;
}

/** The same request once the viewer may have the stream's objects. */
export interface ViewerRequest<Ref extends StreamObjectRef = StreamObjectRef> extends ObjectRequest<Ref> {
  query: PlaybackQuery;
  status: StreamStatus;
}

/** Where a stream's (or one rendition's) segments are listed from when a CDN serves them; undefined: this origin, by relative URI. */
export function segmentBase(segmentBaseUrl: string | undefined, playbackId: string, rendition?: string): string | undefined {
  if (!segmentBaseUrl) return undefined;
  return `${segmentBaseUrl}${playbackId}/${rendition ? `${rendition}/` : ''}`;
}
