/**
 * Webhook deliveries through Cloudflare Queues on Workers: the worker's `queue` handler consumes
 * them and retries each with the delay Webhooks.attempt answers (local under `wrangler dev`).
 */
import type { AttemptOutcome, WebhookJob, WebhookQueue } from './webhooks.ts';

export class CloudflareWebhookQueue implements WebhookQueue {
  private readonly queue: Queue<WebhookJob>;

  constructor(queue: Queue<WebhookJob>) {
    this.queue = queue;
  }

  async enqueue(job: WebhookJob, delaySeconds?: number): Promise<void> {
    await this.queue.send(job, delaySeconds ? { delaySeconds } : undefined);
  }
}

/** Consumes a batch on Workers: each message attempted once, retried later or acknowledged. */
export async function consumeWebhookBatch(batch: MessageBatch<WebhookJob>, attempt: (job: WebhookJob) => Promise<AttemptOutcome>): Promise<void> {
  for (const message of batch.messages) {
    try {
      const outcome = await attempt(message.body);
      if ('retryAfterSeconds' in outcome) message.retry({ delaySeconds: outcome.retryAfterSeconds });
      else message.ack();
    } catch {
      // Our own failure (the database, say): the queue's own retry.
      message.retry();
    }
  }
}

