/** The webhooks of a worker's settings, over D1 and the Queues binding: for its app, its queue handler and its Durable Objects. */
import { CloudflareWebhookQueue } from '../platform/cloudflare-webhook-queue.ts';
import { D1Client } from '../platform/d1-client.ts';
import { platformWebhooks } from '../platform/platform-webhooks.ts';
import { SqlStreamRegistry } from '../platform/stream-registry.ts';
import type { BroadcastEndingPlatform } from './broadcast-ending.ts';
import type { Env } from './workers-app.ts';

export function workerWebhooks(env: Pick<Env, 'DB' | 'WEBHOOKS' | 'WEBHOOK_URLS' | 'WEBHOOK_SECRET'>) {
  return platformWebhooks(new D1Client(env.DB), env, env.WEBHOOKS ? new CloudflareWebhookQueue(env.WEBHOOKS) : undefined);
}

/** What ending a crashed broadcast reports through on Workers (its Durable Object's alarm, the hourly Cron Trigger): the webhooks, and the registry that names the stream. */
export function workerBroadcastEndingPlatform(env: Partial<Pick<Env, 'DB' | 'WEBHOOKS' | 'WEBHOOK_URLS' | 'WEBHOOK_SECRET'>>): BroadcastEndingPlatform {
  if (!env.DB) return {};
  return { ...workerWebhooks({ ...env, DB: env.DB }), registry: new SqlStreamRegistry(new D1Client(env.DB)) };
}
