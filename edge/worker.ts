/** Cloudflare Workers entry: wires the R2, Durable Object and D1 bindings and the secrets into the app. */
import hlsJsSource from 'hls.js/dist/hls.min.js';
import hlsJsPackage from 'hls.js/package.json' with { type: 'json' };
import type { Hono } from 'hono';
import shakaSource from 'shaka-player/dist/shaka-player.compiled.js';
import shakaPackage from 'shaka-player/package.json' with { type: 'json' };
// dash.js does not export its browser build as a subpath: it is imported by path.
import dashJsSource from '../node_modules/dashjs/dist/modern/umd/dash.all.min.js';
import dashJsPackage from '../node_modules/dashjs/package.json' with { type: 'json' };
import type { ObjectStore } from '../shared/storage/object-store.ts';
import { createApp } from './app.ts';
import { DurableObjectCoordinator, type LiveStreamObject } from './low-latency/live-stream-object.ts';
import { D1Client } from './platform/d1-client.ts';
import { SqlStreamRegistry } from './platform/stream-registry.ts';
import { CloudflareWebhookQueue, consumeWebhookBatch } from './platform/cloudflare-webhook-queue.ts';
import { platformWebhooks, type WebhookSettings } from './platform/platform-webhooks.ts';
import type { WebhookJob } from './platform/webhooks.ts';
import { edgeDependencies, type EdgeEnvironment } from './runtime/environment.ts';
import { R2ObjectStore } from './storage/r2-object-store.ts';

export { LiveStreamObject } from './low-latency/live-stream-object.ts';

export interface Env extends EdgeEnvironment, WebhookSettings {
  /** Webhook deliveries (wrangler.toml [[queues]]); consumed by this worker's queue handler. */
  WEBHOOKS?: Queue<WebhookJob>;
  BUCKET: R2Bucket;
  /** One Durable Object per live stream: low-latency HLS parts and blocking playlist reloads. */
  LIVE: DurableObjectNamespace<LiveStreamObject>;
  /** The stream registry (edge/platform/): migrations/ applied with `wrangler d1 migrations apply DB`. */
  DB: D1Database;
}

/** The app as production builds it from its bindings (tests in workerd build it here too; `store` replaces the R2 store, e.g. one counting reads). */
export function createWorkerApp(env: Env, overrides: { store?: ObjectStore } = {}): Hono {
  return createApp(edgeDependencies(env, {
    store: overrides.store ?? new R2ObjectStore(env.BUCKET),
    cache: caches.default,
    // No call is shared between requests here (a promise belongs to the request that made it):
    // each held viewer is its own call to the stream's Durable Object, which groups them.
    shareReadsAcrossRequests: false,
    lowLatency: new DurableObjectCoordinator(env.LIVE),
    // No peer address on Workers: with the development secret, writes are taken only for a
    // loopback URL host and a loopback cf-connecting-ip, which only `wrangler dev` on this
    // machine produces (edge/development-secret.ts).
    registry: new SqlStreamRegistry(new D1Client(env.DB)),
    ...workerWebhooks(env),
    assets: { hlsJsVersion: hlsJsPackage.version, hlsJsSource, dashJsVersion: dashJsPackage.version, dashJsSource, shakaVersion: shakaPackage.version, shakaSource },
  }));
}

/** The webhooks of this worker's settings, over D1 and the Queues binding. */
function workerWebhooks(env: Env) {
  return platformWebhooks(new D1Client(env.DB), env, env.WEBHOOKS ? new CloudflareWebhookQueue(env.WEBHOOKS) : undefined);
}

let app: Hono | undefined;

export default {
  fetch(request, env, ctx) {
    app ??= createWorkerApp(env);
    return app.fetch(request, env, ctx);
  },
  /** Webhook deliveries: each message one attempt, retried with backoff (edge/platform/webhooks.ts). */
  async queue(batch, env) {
    const { webhooks } = workerWebhooks(env);
    if (!webhooks) {
      // Webhooks were turned off since these were queued: nothing to deliver them with.
      batch.ackAll();
      return;
    }
    await consumeWebhookBatch(batch as MessageBatch<WebhookJob>, (job) => webhooks.attempt(job));
  },
} satisfies ExportedHandler<Env>;
