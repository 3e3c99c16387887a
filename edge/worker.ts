/** Cloudflare Workers entry: the app built from the worker's bindings (runtime/workers-app.ts), the live state's Durable Object, the webhook queue's consumer. */
import type { Hono } from 'hono';
import { consumeWebhookBatch } from './platform/cloudflare-webhook-queue.ts';
import type { WebhookJob } from './platform/webhooks.ts';
import { createWorkerApp, type Env } from './runtime/workers-app.ts';
import { workerBroadcastEndingPlatform, workerWebhooks } from './runtime/workers-webhooks.ts';
import { sweepExpiredRecordings } from './recordings/expiry-schedule.ts';
import { sweepStaleBroadcasts } from './runtime/broadcast-ending.ts';
import { R2ObjectStore } from './storage/r2-object-store.ts';

export { LiveStreamObject } from './low-latency/live-stream-object.ts';
export { createWorkerApp, type Env } from './runtime/workers-app.ts';

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
  /**
   * The hourly Cron Trigger (wrangler.toml): expired recordings are deleted with their media, and
   * broadcasts left live by a sidecar gone unseen (no Durable Object alarm for them) are ended.
   */
  async scheduled(_controller, env) {
    const store = new R2ObjectStore(env.BUCKET);
    await sweepExpiredRecordings(store);
    await sweepStaleBroadcasts(store, workerBroadcastEndingPlatform(env));
  },
} satisfies ExportedHandler<Env>;
