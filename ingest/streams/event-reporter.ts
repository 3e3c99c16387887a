/**
 * The sidecar's side of the webhooks: a stream's events (shared/webhooks.ts) reported to the
 * platform on the ingest channel (`POST /_ingest/registry/events`, a registry token from the
 * ingest secret), which records each once by its id and delivers it through its queue. A report
 * that fails is sent again (same id: never delivered twice) a few times, then given up, logged.
 * stream.errored is sent at most once a minute per stream and code (a failing storage fails
 * every write).
 */
import type { Logger } from 'pino';
import { registryLookupToken } from '../../shared/registry-lookup.ts';
import { newEventId, WEBHOOK_EVENTS_PATH, type WebhookErrorCode, type WebhookEvent, type WebhookEventType, type WebhookRecording } from '../../shared/webhooks.ts';

const SEND_ATTEMPTS = 4;
const REPORT_TIMEOUT_MS = 5_000;
const ERROR_REPEAT_MS = 60_000;

export interface StreamEventSubject {
  playbackId: string;
  /** The operator's name (keyed streams). */
  name?: string;
}

export interface StreamEvents {
  report(type: Exclude<WebhookEventType, 'stream.errored' | 'stream.recording.ready'>, stream: StreamEventSubject): void;
  errored(stream: StreamEventSubject, code: WebhookErrorCode, message: string): void;
  /** A recording is complete (its documents are stored): stream.recording.ready. */
  recordingReady?(stream: StreamEventSubject, recording: WebhookRecording): void;
}

export interface EventReporterOptions {
  edgeUrl: string;
  ingestSecret: string;
  log: Logger;
  now?: () => number;
  /** Milliseconds before resending attempt n (1-based); tests shorten it. */
  retryDelayMs?: (attempt: number) => number;
}

export class EventReporter implements StreamEvents {
  private readonly options: EventReporterOptions;
  private readonly lastErrors = new Map<string, number>();

  constructor(options: EventReporterOptions) {
    this.options = options;
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  report(type: Exclude<WebhookEventType, 'stream.errored' | 'stream.recording.ready'>, stream: StreamEventSubject): void {
    this.send({ id: newEventId(), type, createdAt: new Date(this.now()).toISOString(), data: { ...stream } });
  }

  recordingReady(stream: StreamEventSubject, recording: WebhookRecording): void {
    this.send({ id: newEventId(), type: 'stream.recording.ready', createdAt: new Date(this.now()).toISOString(), data: { ...stream, recording } });
  }

  errored(stream: StreamEventSubject, code: WebhookErrorCode, message: string): void {
    const key = `${stream.playbackId} ${code}`;
    const last = this.lastErrors.get(key);
    if (last !== undefined && this.now() - last < ERROR_REPEAT_MS) return;
    this.lastErrors.set(key, this.now());
    if (this.lastErrors.size > 1000) this.lastErrors.delete(this.lastErrors.keys().next().value!);
    this.send({ id: newEventId(), type: 'stream.errored', createdAt: new Date(this.now()).toISOString(), data: { ...stream, code, message: message.slice(0, 500) } });
  }

  /** Resolves once the edge took the event or the attempts ran out (never rejects). */
  send(event: WebhookEvent): Promise<boolean> {
    return this.sendAttempts(event).catch(() => false);
  }

  private async sendAttempts(event: WebhookEvent): Promise<boolean> {
    let last = '';
    for (let attempt = 1; attempt <= SEND_ATTEMPTS; attempt++) {
      try {
        const response = await fetch(new URL(WEBHOOK_EVENTS_PATH, this.options.edgeUrl), {
          method: 'POST',
          headers: { authorization: `Bearer ${await registryLookupToken(this.options.ingestSecret, this.now())}`, 'content-type': 'application/json' },
          body: JSON.stringify(event),
          signal: AbortSignal.timeout(REPORT_TIMEOUT_MS),
        });
        await response.body?.cancel();
        if (response.ok) return true;
        last = `answered ${response.status}`;
        // A refusal of the event itself will not change.
        if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) break;
      } catch (error) {
        last = (error as Error).message;
      }
      if (attempt < SEND_ATTEMPTS) await new Promise((resolve) => setTimeout(resolve, this.options.retryDelayMs?.(attempt) ?? 1000 * 2 ** (attempt - 1)));
    }
    this.options.log.warn({ event: event.type, eventId: event.id }, `could not report a stream event to the platform (${last}); its webhooks are not sent`);
    return false;
  }
}
