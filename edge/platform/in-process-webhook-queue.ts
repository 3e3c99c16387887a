/** Webhook deliveries on Node and Deno: an in-process queue of timers (the Workers one is cloudflare-webhook-queue.ts). */
import type { AttemptOutcome, WebhookJob, WebhookQueue } from './webhooks.ts';

/** Node and Deno: deliveries run in this process, retried on timers (lost if the process stops: the log shows them pending). */
export class InProcessWebhookQueue implements WebhookQueue {
  private attempt: ((job: WebhookJob) => Promise<AttemptOutcome>) | undefined;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly millisecondsPerSecond: number;

  /** `millisecondsPerSecond`: how long a second of delay lasts (tests shorten the backoff). */
  constructor(options: { millisecondsPerSecond?: number } = {}) {
    this.millisecondsPerSecond = options.millisecondsPerSecond ?? 1000;
  }

  /** Set once the Webhooks service exists (it needs this queue first). */
  consumeWith(attempt: (job: WebhookJob) => Promise<AttemptOutcome>): void {
    this.attempt = attempt;
  }

  enqueue(job: WebhookJob, delaySeconds = 0): Promise<void> {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.run(job);
    }, delaySeconds * this.millisecondsPerSecond);
    this.timers.add(timer);
    return Promise.resolve();
  }

  private async run(job: WebhookJob): Promise<void> {
    if (!this.attempt) return;
    let outcome: AttemptOutcome;
    try {
      outcome = await this.attempt(job);
    } catch {
      outcome = { retryAfterSeconds: 5 };
    }
    if ('retryAfterSeconds' in outcome) await this.enqueue(job, outcome.retryAfterSeconds);
  }

  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
