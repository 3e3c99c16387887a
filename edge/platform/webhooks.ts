/**
 * Webhook delivery: an event a sidecar reported is recorded once, one delivery per configured
 * endpoint is queued, and each delivery is attempted with the signed body (shared/webhooks.ts)
 * until the endpoint answers 2xx, retried with exponential backoff, given up after MAX_ATTEMPTS.
 * The queue is Cloudflare Queues on Workers and an in-process timer queue on Node and Deno
 * (cloudflare-webhook-queue.ts, in-process-webhook-queue.ts); both call `attempt` and do what it answers.
 */
import { webhookHeaders, type WebhookEvent } from '../../shared/webhooks.ts';
import type { WebhookLog } from './webhook-log.ts';

export const MAX_ATTEMPTS = 6;
const ATTEMPT_TIMEOUT_MS = 10_000;

/** Seconds before attempt `attempts + 1`: 2, 4, 8, 16, 32 … at most 5 minutes. */
export function retryDelaySeconds(attempts: number): number {
  return Math.min(300, 2 ** attempts);
}

export interface WebhookJob {
  deliveryId: number;
}

export interface WebhookQueue {
  enqueue(job: WebhookJob, delaySeconds?: number): Promise<void>;
}

export type AttemptOutcome = { done: true } | { retryAfterSeconds: number };

export interface WebhooksOptions {
  log: WebhookLog;
  queue: WebhookQueue;
  /** The platform's endpoints (WEBHOOK_URLS). */
  endpoints: readonly string[];
  /** A stream's own endpoints (the registry's webhookUrls), used instead of the platform's; null or undefined: the platform's. */
  streamEndpoints?: (playbackId: string) => Promise<readonly string[] | null | undefined>;
  /** Signs deliveries (WEBHOOK_SECRET); without it nothing is delivered. */
  secret: string;
  fetch?: typeof fetch;
  now?: () => number;
}

export class Webhooks {
  private readonly options: WebhooksOptions;

  constructor(options: WebhooksOptions) {
    this.options = options;
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  /** Records a reported event and queues its deliveries; a repeated event id queues nothing. */
  async accept(event: WebhookEvent): Promise<{ recorded: boolean; deliveries: number }> {
    const payload = JSON.stringify(event);
    const recorded = await this.options.log.recordEvent({ id: event.id, type: event.type, playbackId: event.data.playbackId, payload, createdAt: event.createdAt });
    if (!recorded) return { recorded, deliveries: 0 };
    const at = new Date(this.now()).toISOString();
    const endpoints = (await this.options.streamEndpoints?.(event.data.playbackId)) ?? this.options.endpoints;
    let deliveries = 0;
    for (const endpoint of endpoints) {
      const id = await this.options.log.addDelivery(event.id, endpoint, at);
      if (id === undefined) continue;
      await this.options.queue.enqueue({ deliveryId: id });
      deliveries += 1;
    }
    return { recorded, deliveries };
  }

  /** One attempt of one delivery: done (delivered, given up, or nothing to do), or when to try again. */
  async attempt(job: WebhookJob): Promise<AttemptOutcome> {
    const found = await this.options.log.delivery(job.deliveryId);
    if (!found || found.delivery.status !== 'pending') return { done: true };
    const { delivery, payload } = found;
    let httpStatus: number | null = null;
    let error: string | null = null;
    try {
      const response = await (this.options.fetch ?? fetch)(delivery.endpoint, {
        method: 'POST',
        headers: await webhookHeaders(this.options.secret, delivery.eventId, payload, this.now()),
        body: payload,
        redirect: 'manual',
        signal: AbortSignal.timeout(ATTEMPT_TIMEOUT_MS),
      });
      httpStatus = response.status;
      await response.body?.cancel();
      if (!response.ok) error = `answered ${response.status}`;
    } catch (caught) {
      error = caught instanceof Error ? caught.message : String(caught);
    }
    const attempts = delivery.attempts + 1;
    const status = error === null ? 'delivered' : attempts >= MAX_ATTEMPTS ? 'failed' : 'pending';
    await this.options.log.recordAttempt(delivery.id, { status, httpStatus, error: error?.slice(0, 500) ?? null }, new Date(this.now()).toISOString());
    return status === 'pending' ? { retryAfterSeconds: retryDelaySeconds(attempts) } : { done: true };
  }
}

/** WEBHOOK_URLS: http(s) URLs separated by commas or spaces; anything else is refused at start. */
export function parseWebhookUrls(value: string | undefined): string[] {
  if (!value?.trim()) return [];
  return value.split(/[\s,]+/).filter(Boolean).map((text) => {
    const url = new URL(text);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`WEBHOOK_URLS: ${text} is not an http(s) URL`);
    return url.href;
  });
}
