/**
 * The webhooks of a platform from its settings (WEBHOOK_URLS, WEBHOOK_SECRET) and its database:
 * the delivery log always (the API shows it), the delivering service with a secret (a stream's
 * own webhookUrls in the registry replace the platform's list for its events). Each runtime
 * passes its queue (Cloudflare Queues, or the in-process one).
 */
import { WebhookLog } from './webhook-log.ts';
import { parseWebhookUrls, Webhooks, type WebhookQueue } from './webhooks.ts';
import { SqlStreamRegistry, type SqlClient } from './stream-registry.ts';

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
  if (!queue) return { webhookLog };
  if (!settings.WEBHOOK_SECRET) {
    if (endpoints.length > 0) console.error('edge: webhooks off: WEBHOOK_URLS is set but WEBHOOK_SECRET is not (deliveries are signed with it)');
    return { webhookLog };
  }
  const registry = new SqlStreamRegistry(sql);
  const streamEndpoints = async (playbackId: string) => (await registry.findByPlaybackId(playbackId))?.webhookUrls;
  return { webhookLog, webhooks: new Webhooks({ log: webhookLog, queue, endpoints, streamEndpoints, secret: settings.WEBHOOK_SECRET }) };
}
