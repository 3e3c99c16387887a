/**
 * The edge app on Workers, from the worker's bindings and secrets: what edge/worker.ts serves,
 * and what the tests in workerd (test/workers/) build, so they run what production runs.
 */
import type { Hono } from 'hono';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import { createApp } from '../app.ts';
import { DurableObjectCoordinator, type LiveStreamObject } from '../low-latency/live-stream-object.ts';
import { D1Client } from '../platform/d1-client.ts';
import type { WebhookSettings } from '../platform/platform-webhooks.ts';
import { SqlStreamRegistry } from '../platform/stream-registry.ts';
import { SqlStreamOutputs } from '../platform/stream-outputs.ts';
import { targetKeySeal } from '../platform/target-key-seal.ts';
import type { WebhookJob } from '../platform/webhooks.ts';
import { R2ObjectStore } from '../storage/r2-object-store.ts';
import { edgeDependencies, type EdgeEnvironment } from './environment.ts';
import { workerWebhooks } from './workers-webhooks.ts';
import { BUNDLED_PLAYER_ASSETS } from './workers-assets.ts';

export interface Env extends EdgeEnvironment, WebhookSettings {
  /** Webhook deliveries (wrangler.toml [[queues]]); consumed by this worker's queue handler. */
  WEBHOOKS?: Queue<WebhookJob>;
  BUCKET: R2Bucket;
  /** One Durable Object per live stream: low-latency HLS parts and blocking playlist reloads. */
  LIVE: DurableObjectNamespace<LiveStreamObject>;
  /** The stream registry (edge/platform/): migrations/ applied with `wrangler d1 migrations apply DB`. */
  DB: D1Database;
}

/** The app as production builds it from its bindings (`store` replaces the R2 store: tests count reads with it). */
export function createWorkerApp(env: Env, overrides: { store?: ObjectStore } = {}): Hono {
  return createApp(edgeDependencies(env, {
    store: overrides.store ?? new R2ObjectStore(env.BUCKET),
    cache: caches.default,
    // No request awaits a promise another request made (it belongs to that request): storage
    // reads are not joined, and viewers joined to another's low-latency call look for its answer
    // on timers of their own (edge/low-latency/joined-waits.ts).
    shareReadsAcrossRequests: false,
    lowLatency: new DurableObjectCoordinator(env.LIVE),
    // No peer address on Workers: with the development secret, writes are taken only for a
    // loopback URL host and a loopback cf-connecting-ip, which only `wrangler dev` on this
    // machine produces (edge/development-secret.ts).
    registry: new SqlStreamRegistry(new D1Client(env.DB)),
    outputs: new SqlStreamOutputs(new D1Client(env.DB), env.INGEST_SECRET ? targetKeySeal(env.INGEST_SECRET) : undefined),
    ...workerWebhooks(env),
    assets: BUNDLED_PLAYER_ASSETS,
  }));
}

