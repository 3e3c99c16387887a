/** Cloudflare Workers entry: wires the R2 binding and secrets into the app. */
import hlsJsSource from 'hls.js/dist/hls.min.js';
import hlsJsPackage from 'hls.js/package.json' with { type: 'json' };
import type { Hono } from 'hono';
import shakaSource from 'shaka-player/dist/shaka-player.compiled.js';
import shakaPackage from 'shaka-player/package.json' with { type: 'json' };
// dash.js does not export its browser build as a subpath: it is imported by path.
import dashJsSource from '../node_modules/dashjs/dist/modern/umd/dash.all.min.js';
import dashJsPackage from '../node_modules/dashjs/package.json' with { type: 'json' };
import { createApp } from './app.ts';
import { DurableObjectCoordinator, type LiveStreamObject } from './low-latency/live-stream-object.ts';
import { R2ObjectStore } from './storage/r2-object-store.ts';
import { D1Client } from './platform/d1-client.ts';
import { SqlStreamRegistry } from './platform/stream-registry.ts';

export { LiveStreamObject } from './low-latency/live-stream-object.ts';

export interface Env {
  BUCKET: R2Bucket;
  /** One Durable Object per live stream: low-latency HLS parts and blocking playlist reloads. */
  LIVE: DurableObjectNamespace<LiveStreamObject>;
  /** The stream registry (edge/platform/): migrations/ applied with `wrangler d1 migrations apply DB`. */
  DB: D1Database;
  /** Bearer token of the management API, /api/v1/streams (`wrangler secret put ADMIN_TOKEN`). */
  ADMIN_TOKEN?: string;
  INGEST_SECRET?: string;
  /** Secret of signed playback tokens (`wrangler secret put PLAYBACK_SECRET`). */
  PLAYBACK_SECRET?: string;
  /** Optional CDN base URL for segments, e.g. https://cdn.example.com/live/ */
  SEGMENT_BASE_URL?: string;
}

let app: Hono | undefined;

export default {
  fetch(request, env, ctx) {
    app ??= createApp({
      store: new R2ObjectStore(env.BUCKET),
      cache: caches.default,
      // No call is shared between requests here (a promise belongs to the request that made it):
      // each held viewer is its own call to the stream's Durable Object, which groups them.
      shareReadsAcrossRequests: false,
      lowLatency: new DurableObjectCoordinator(env.LIVE),
      // No peer address on Workers: with the development secret, writes are taken only for a
      // loopback URL host and a loopback cf-connecting-ip, which only `wrangler dev` on this
      // machine produces (edge/development-secret.ts).
      ingestSecret: env.INGEST_SECRET,
      playbackSecret: env.PLAYBACK_SECRET || undefined,
      segmentBaseUrl: env.SEGMENT_BASE_URL || undefined,
      registry: new SqlStreamRegistry(new D1Client(env.DB)),
      adminToken: env.ADMIN_TOKEN || undefined,
      assets: { hlsJsVersion: hlsJsPackage.version, hlsJsSource, dashJsVersion: dashJsPackage.version, dashJsSource, shakaVersion: shakaPackage.version, shakaSource },
    });
    return app.fetch(request, env, ctx);
  },
} satisfies ExportedHandler<Env>;
