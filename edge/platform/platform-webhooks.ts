/**
 * The webhooks of a platform from its settings (WEBHOOK_URLS, WEBHOOK_SECRET) and its database:
 * the delivery log always (the API shows it), the delivering service only with endpoints and a
 * secret. Each runtime passes its queue (Cloudflare Queues, or the in-process one).
 */
import { WebhookLog } from './webhook-log.ts';
import { parseWebhookUrls, Webhooks, type WebhookQueue } from './webhooks.ts';
import type { SqlClient } from './stream-registry.ts';

export interface WebhookSettings {
  /** The platform's endpoints, comma-separated http(s) URLs. */
  WEBHOOK_URLS?: string;
  /** Signs every delivery (receivers verify with it: shared/webhooks.ts verifyWebhook). */
  WEBHOOK_SECRET?: string;
}

export function platformWebhooks(sql: SqlClient, settings: WebhookSettings, queue: WebhookQueue | undefined): { webhookLog: WebhookLog; webhooks?: Webhooks } {
  const webhookLog = new WebhookLog(sql);
  let endpoints: string[];
  try {
    endpoints = parseWebhookUrls(settings.WEBHOOK_URLS);
  } catch (error) {
    console.error(`edge: webhooks off: ${(error as Error).message}`);
    return { webhookLog };
  }
  if (endpoints.length === 0 || !queue) return { webhookLog };
  if (!settings.WEBHOOK_SECRET) {
    console.error('edge: webhooks off: WEBHOOK_URLS is set but WEBHOOK_SECRET is not (deliveries are signed with it)');
    return { webhookLog };
  }
  return { webhookLog, webhooks: new Webhooks({ log: webhookLog, queue, endpoints, secret: settings.WEBHOOK_SECRET }) };
}
