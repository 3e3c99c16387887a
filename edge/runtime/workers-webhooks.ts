/** The webhooks of a worker's settings, over D1 and the Queues binding: for its app, its queue handler and its Durable Objects. */
import { CloudflareWebhookQueue } from '../platform/cloudflare-webhook-queue.ts';
import { D1Client } from '../platform/d1-client.ts';
import { platformWebhooks } from '../platform/platform-webhooks.ts';
import type { Env } from './workers-app.ts';

export function workerWebhooks(env: Pick<Env, 'DB' | 'WEBHOOKS' | 'WEBHOOK_URLS' | 'WEBHOOK_SECRET'>) {
  return platformWebhooks(new D1Client(env.DB), env, env.WEBHOOKS ? new CloudflareWebhookQueue(env.WEBHOOKS) : undefined);
}
