/**
 * Webhooks as both sides know them: the events a sidecar reports to the edge (`POST
 * /_ingest/registry/events`, with the registry token of shared/registry-lookup.ts), and the
 * signature the edge puts on each delivery, which a receiver verifies:
 *
 *   webhook-id: EVENT_ID            (the same on every retry: a receiver drops repeats by it)
 *   webhook-timestamp: UNIX_SECONDS (when this attempt was signed: refuse old ones, say > 5 min)
 *   webhook-signature: v1=HEX       (HMAC-SHA256 under WEBHOOK_SECRET of "ID.TIMESTAMP.BODY")
 */
import { constantTimeEqual } from './constant-time.ts';

export const WEBHOOK_EVENTS_PATH = '/_ingest/registry/events';

export const WEBHOOK_EVENT_TYPES = ['stream.connected', 'stream.active', 'stream.disconnected', 'stream.idle', 'stream.errored', 'stream.recording.ready'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];

/** Why a stream.errored event was sent. */
export const WEBHOOK_ERROR_CODES = ['unsupported-source', 'gop-out-of-range', 'encoder-failing', 'storage-failing'] as const;
export type WebhookErrorCode = (typeof WEBHOOK_ERROR_CODES)[number];

/** What a sidecar reports, and (as JSON) what every endpoint receives. */
export interface WebhookEvent {
  /** Unique per event (the sidecar makes it): deliveries and retries carry it. */
  id: string;
  type: WebhookEventType;
  createdAt: string;
  data: {
    playbackId: string;
    /** The operator's stream name, for keyed streams. */
    name?: string;
    /** stream.errored only. */
    code?: WebhookErrorCode;
    message?: string;
    /** stream.recording.ready only: the complete recording (its URLs absolute on the edge that took the event). */
    recording?: WebhookRecording;
  };
}

/** What stream.recording.ready says of the recording. */
export interface WebhookRecording {
  id: string;
  startedAt: string;
  endedAt: string;
  durationSeconds: number;
  bytes: number;
  urls?: { hls: string; dash: string; mp4: string };
}

/** A reported recording, checked field by field (URLs are the edge's to add); undefined when it is not one. */
export function parseWebhookRecording(value: unknown): WebhookRecording | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const recording = value as Record<string, unknown>;
  const time = (field: unknown) => typeof field === 'string' && field.length <= 40 && !Number.isNaN(Date.parse(field));
  const count = (field: unknown) => typeof field === 'number' && Number.isFinite(field) && field >= 0;
  if (typeof recording.id !== 'string' || !/^r[0-9a-z]{8,31}$/.test(recording.id) || !time(recording.startedAt) || !time(recording.endedAt) || !count(recording.durationSeconds) || !count(recording.bytes)) return undefined;
  return { id: recording.id, startedAt: String(recording.startedAt), endedAt: String(recording.endedAt), durationSeconds: Number(recording.durationSeconds), bytes: Number(recording.bytes) };
}

export const EVENT_ID_PATTERN = /^evt_[A-Za-z0-9_-]{16,64}$/;

export function newEventId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `evt_${[...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey('raw', new TextEncoder().encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(message)));
  return [...mac].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** The headers of one delivery attempt of `body` (the event's JSON). */
export async function webhookHeaders(secret: string, eventId: string, body: string, nowMs: number): Promise<Record<string, string>> {
  const timestamp = String(Math.floor(nowMs / 1000));
  return {
    'content-type': 'application/json',
    'webhook-id': eventId,
    'webhook-timestamp': timestamp,
    'webhook-signature': `v1=${await hmacHex(secret, `${eventId}.${timestamp}.${body}`)}`,
  };
}

/** A receiver's check: signed with the secret, for this body and id, not older than `toleranceSeconds`. */
export async function verifyWebhook(secret: string, headers: { get(name: string): string | null }, body: string, nowMs: number, toleranceSeconds = 300): Promise<{ ok: true; eventId: string } | { ok: false; reason: string }> {
  const eventId = headers.get('webhook-id');
  const timestamp = headers.get('webhook-timestamp');
  const signature = headers.get('webhook-signature');
  if (!eventId || !timestamp || !signature) return { ok: false, reason: 'missing webhook-id, webhook-timestamp or webhook-signature' };
  if (!/^\d{1,12}$/.test(timestamp) || Math.abs(nowMs / 1000 - Number(timestamp)) > toleranceSeconds) return { ok: false, reason: 'timestamp too old or in the future' };
  const expected = `v1=${await hmacHex(secret, `${eventId}.${timestamp}.${body}`)}`;
  return constantTimeEqual(signature, expected) ? { ok: true, eventId } : { ok: false, reason: 'wrong signature' };
}
