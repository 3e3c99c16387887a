/** Builds the edge origin's Hono app from its dependencies; runtime entry points only wire them. */
import { Hono, type Context } from 'hono';
import type { ObjectStore } from '../shared/storage/object-store.ts';
import { OutageAwareStore } from './storage/storage-outage.ts';
import { CachedObjectStore, type ResponseCache } from './cache/cached-object-store.ts';
import { openCors } from './http/open-cors.ts';
import type { MemoryObjectCache } from './cache/memory-object-cache.ts';
import type { LowLatencyCoordinator } from './low-latency/coordinator.ts';
import { keepAliveOf, LocationCollapse, WORKERS_JOIN_POLL_MS } from './low-latency/location-collapse.ts';
import { TIME_PATH } from '../shared/time-api.ts';
import { WRITE_API_PREFIX } from '../shared/write-api.ts';
import { NO_STORE } from './cache/cache-control.ts';
import { errorResponse, httpError } from './errors.ts';
import { pageRoutes, type PlayerAssets } from './routes/pages.ts';
import { playbackRoutes } from './routes/playback.ts';
import { thumbnailRoutes } from './routes/thumbnail.ts';
import { recordingDownloadRoutes } from './routes/recording-download.ts';
import { timeRoutes } from './routes/time.ts';
import { recordingRoutes } from './routes/recordings.ts';
import { recordingsApiRoutes } from './routes/recordings-api.ts';
import { writeApiRoutes } from './routes/write-api.ts';
import { MANAGEMENT_API_PREFIX, managementApiRoutes } from './routes/management-api.ts';
import { registryLookupRoutes } from './routes/registry-lookup.ts';
import { REGISTRY_LOOKUP_PATH } from '../shared/registry-lookup.ts';
import type { StreamRegistry } from './platform/stream-registry.ts';
import type { StreamOutputStore } from './platform/stream-outputs.ts';
import { streamOutputRoutes } from './routes/stream-outputs.ts';
import type { WebhookLog } from './platform/webhook-log.ts';
import type { Webhooks } from './platform/webhooks.ts';
import { WEBHOOK_LOG_PREFIX, webhookLogRoutes } from './routes/webhook-log-api.ts';
import { liveChannelRoutes } from './routes/live-channel.ts';
import { LIVE_CHANNEL_PREFIX } from '../shared/live-channel-protocol.ts';

export interface EdgeDependencies {
  store: ObjectStore;
  /** The runtime's shared cache (Workers: caches.default); viewers' reads go through it. */
  cache?: ResponseCache;
  /**
   * Copies of stored objects in this process (Node, Deno): viewers' reads go through it; `store`
   * must then be a ForgettingStore over it, so that this edge's writes replace what it holds.
   */
  memoryCache?: MemoryObjectCache;
  /**
   * Whether concurrent reads of one object by different requests may share one storage read:
   * yes on Node and Deno (the default); never on Workers, where a request must not wait on a
   * promise another request made (see cache/cached-object-store.ts).
   */
  shareReadsAcrossRequests?: boolean;
  /** Secret the sidecar's writes must carry; unset disables the write API. */
  ingestSecret: string | undefined;
  assets: PlayerAssets;
  /** Verifies viewers' tokens for streams whose playback is signed; unset: such streams are refused (503). */
  playbackSecret?: string;
  /** Segments and init segments are listed under this URL (a CDN) instead of this origin's `/live/`. */
  segmentBaseUrl?: string;
  /** Low-latency HLS live state (parts, blocking reloads); unset: playlists of whole segments only. */
  lowLatency?: LowLatencyCoordinator;
  /** The connecting peer's address where the runtime gives it (Node, Deno); the write API checks it for the development secret. */
  peerAddress?: (c: Context) => string | undefined;
  /** The platform's configured streams (D1 on Workers, SQLite on Node/Deno); unset: the management API answers 503. */
  registry?: StreamRegistry;
  /** The streams' restream outputs, in the registry's database (/api/v1/streams/NAME/outputs). */
  outputs?: StreamOutputStore;
  /** Bearer token of the management API (/api/v1/streams); unset: it answers 503. */
  adminToken?: string;
  /** Delivers the sidecars' stream events to the platform's endpoints; unset: events are dropped. */
  webhooks?: Webhooks;
  /** The webhook delivery log (/api/v1/webhooks/deliveries). */
  webhookLog?: WebhookLog;
}

// Far beyond any URL of ours (a token and a few query parameters included).
const MAX_URL_LENGTH = 4096;

export function createApp(deps: EdgeDependencies): Hono {
  const app = new Hono();
  app.use('*', async (c, next) => {
    if (c.req.url.length > MAX_URL_LENGTH) throw httpError(414, `URL longer than ${MAX_URL_LENGTH} characters`);
    await next();
  });
  // Players on other origins (web players, test pages) fetch playlists and segments.
  app.use('/live/*', openCors({ exposeHeaders: ['content-length', 'content-range', 'accept-ranges', 'etag'] }));
  app.use('/recordings/*', openCors({ exposeHeaders: ['content-length', 'content-range', 'accept-ranges', 'etag', 'content-disposition'] }));
  app.use(TIME_PATH, openCors());
  // Viewers read through the edge's cache; the write API (the sidecar reads back what it
  // wrote after a restart) reads storage itself, never a cached copy.
  const viewerStore = new CachedObjectStore(new OutageAwareStore(deps.store), { cache: deps.cache, memory: deps.memoryCache, shareReadsAcrossRequests: deps.shareReadsAcrossRequests ?? true });
  app.route('/live', thumbnailRoutes({ store: viewerStore, playbackSecret: deps.playbackSecret }));
  // Viewers' identical low-latency waits are joined, and their answers kept at the location, in
  // front of the live state (its Durable Object on Workers): low-latency/location-collapse.ts.
  // Where requests may not share promises (Workers), joiners look for the answer on their own timers,
  // and work after an answer is kept alive by the request's execution context.
  const pollMs = deps.shareReadsAcrossRequests === false ? WORKERS_JOIN_POLL_MS : undefined;
  const viewerLowLatency = deps.lowLatency && new LocationCollapse(deps.lowLatency, { cache: deps.cache, pollMs });
  app.route('/live', playbackRoutes({ store: viewerStore, playbackSecret: deps.playbackSecret, segmentBaseUrl: deps.segmentBaseUrl, lowLatency: viewerLowLatency, ...(pollMs !== undefined ? { keepAlive: keepAliveOf } : {}) }));
  app.route('/recordings', recordingDownloadRoutes({ store: viewerStore, mediaStore: new OutageAwareStore(deps.store), playbackSecret: deps.playbackSecret }));
  // A recording as VOD (HLS, DASH, the stream's own segments): routes/recordings.ts.
  app.route('/recordings', recordingRoutes({ store: viewerStore, playbackSecret: deps.playbackSecret, segmentBaseUrl: deps.segmentBaseUrl }));
  app.route('/', timeRoutes());
  app.route(WRITE_API_PREFIX.slice(0, -1), writeApiRoutes({ store: deps.store, secret: deps.ingestSecret, lowLatency: deps.lowLatency, peerAddress: deps.peerAddress }));
  app.route(LIVE_CHANNEL_PREFIX.slice(0, -1), liveChannelRoutes({ secret: deps.ingestSecret, lowLatency: deps.lowLatency, peerAddress: deps.peerAddress }));
  app.route(REGISTRY_LOOKUP_PATH.slice(0, REGISTRY_LOOKUP_PATH.lastIndexOf('/')), registryLookupRoutes({ registry: deps.registry, outputs: deps.outputs, secret: deps.ingestSecret, peerAddress: deps.peerAddress, webhooks: deps.webhooks }));
  app.route(WEBHOOK_LOG_PREFIX, webhookLogRoutes({ log: deps.webhookLog, adminToken: deps.adminToken }));
  app.route(MANAGEMENT_API_PREFIX, streamOutputRoutes({ registry: deps.registry, outputs: deps.outputs, adminToken: deps.adminToken }));
  // A stream's recordings (GET, DELETE): read from storage itself, never a cached copy.
  app.route(MANAGEMENT_API_PREFIX, recordingsApiRoutes({ registry: deps.registry, store: deps.store, adminToken: deps.adminToken }));
  app.route(MANAGEMENT_API_PREFIX, managementApiRoutes({ registry: deps.registry, adminToken: deps.adminToken, playbackSecret: deps.playbackSecret }));
  app.route('/', pageRoutes(deps.assets, viewerStore));
  app.notFound((c) => c.json({ error: 'not found' }, 404, { 'cache-control': NO_STORE }));
  app.onError(errorResponse);
  return app;
}
