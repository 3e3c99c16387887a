/**
 * The sidecar's channel to the platform, authorized by a registry token from the ingest secret
 * (the development secret only from this machine, as for writes: development-secret.ts):
 * `POST /_ingest/registry/lookup`, which streams these key hashes belong to
 * (shared/registry-lookup.ts), `POST /_ingest/registry/events`, a stream's events for the
 * webhooks (shared/webhooks.ts), and `POST /_ingest/registry/outputs`, the states of a stream's
 * restream outputs (shared/output-states.ts).
 */
import { Hono, type Context } from 'hono';
import { checkRegistryLookupToken, MAX_LOOKUP_KEYS, type LookupResponse } from '../../shared/registry-lookup.ts';
import { isPlaybackId } from '../../shared/playback-id.ts';
import { parseOutputStatesReport } from '../../shared/output-states.ts';
import { KEY_SHA256_PATTERN } from '../../shared/stream-keys.ts';
import { EVENT_ID_PATTERN, parseWebhookRecording, WEBHOOK_ERROR_CODES, WEBHOOK_EVENT_TYPES, type WebhookEvent } from '../../shared/webhooks.ts';
import { recordingUrls } from '../../shared/recordings/recording-layout.ts';
import { NO_STORE } from '../cache/cache-control.ts';
import { httpError } from '../errors.ts';
import { BodyTooLarge, readBodyWithLimit } from '../http/limited-body.ts';
import { checkIngestBearer } from './ingest-bearer.ts';
import type { StreamRegistry } from '../platform/stream-registry.ts';
import type { StreamOutputStore } from '../platform/stream-outputs.ts';
import { STREAM_NAME_PATTERN } from '../platform/stream-input.ts';
import type { Webhooks } from '../platform/webhooks.ts';

// MAX_LOOKUP_KEYS hashes of 64 characters, quoted, with commas: well under this.
const BODY_LIMIT_BYTES = 64 * 1024;
const EVENT_BODY_LIMIT_BYTES = 8 * 1024;

export interface RegistryLookupOptions {
  registry: StreamRegistry | undefined;
  /** The streams' restream outputs, sent with each stream (their keys: the sidecar sends them). */
  outputs?: StreamOutputStore;
  secret: string | undefined;
  peerAddress?: (c: Context) => string | undefined;
  /** Where reported events go; unset: they are answered and dropped (no WEBHOOK_URLS). */
  webhooks?: Webhooks;
}

/** A reported event, checked field by field; undefined when it is not one. */
export function parseWebhookEvent(value: unknown): WebhookEvent | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const event = value as Partial<WebhookEvent>;
  const data = event.data as Partial<WebhookEvent['data']> | undefined;
  const valid =
    typeof event.id === 'string' && EVENT_ID_PATTERN.test(event.id) &&
    typeof event.type === 'string' && (WEBHOOK_EVENT_TYPES as readonly string[]).includes(event.type) &&
    typeof event.createdAt === 'string' && event.createdAt.length <= 40 && !Number.isNaN(Date.parse(event.createdAt)) &&
    typeof data === 'object' && data !== null &&
    typeof data.playbackId === 'string' && isPlaybackId(data.playbackId) &&
    (data.name === undefined || (typeof data.name === 'string' && (STREAM_NAME_PATTERN.test(data.name) || isPlaybackId(data.name)))) &&
    (data.code === undefined || (WEBHOOK_ERROR_CODES as readonly string[]).includes(data.code)) &&
    (data.message === undefined || (typeof data.message === 'string' && data.message.length <= 500)) &&
    (data.code !== undefined) === (event.type === 'stream.errored') &&
    (data.recording !== undefined) === (event.type === 'stream.recording.ready');
  if (!valid) return undefined;
  const { playbackId, name, code, message } = data;
  const recording = data.recording === undefined ? undefined : parseWebhookRecording(data.recording);
  if (data.recording !== undefined && !recording) return undefined;
  return { id: event.id!, type: event.type!, createdAt: new Date(event.createdAt!).toISOString(), data: { playbackId: playbackId!, ...(name ? { name } : {}), ...(code ? { code } : {}), ...(message ? { message } : {}), ...(recording ? { recording } : {}) } };
}

/** The request's JSON body, at most `limit` bytes: 413 naming `what` past it, 400 with `expected` when it is not JSON. */
async function jsonBody(c: Context, limit: number, what: string, expected: string): Promise<unknown> {
  try {
    return JSON.parse(new TextDecoder().decode(await readBodyWithLimit(c.req.raw.body, limit)));
  } catch (error) {
    if (error instanceof BodyTooLarge) throw httpError(413, `${what} are limited to ${limit} bytes`);
    throw httpError(400, expected);
  }
}

export function registryLookupRoutes(options: RegistryLookupOptions): Hono {
  const routes = new Hono();
  routes.use('*', async (c, next) => {
    c.header('cache-control', NO_STORE);
    await checkIngestBearer(c, { ...options, api: 'ingest API', credential: 'registry lookup token', verify: checkRegistryLookupToken });
    await next();
  });

  routes.post('/events', async (c) => {
    const event: WebhookEvent | undefined = parseWebhookEvent(await jsonBody(c, EVENT_BODY_LIMIT_BYTES, 'events', 'expected a JSON event'));
    if (!event) throw httpError(400, `expected an event {id: "evt_…", type: one of ${WEBHOOK_EVENT_TYPES.join(', ')}, createdAt, data: {playbackId, name?, code? (stream.errored only), message?, recording? (stream.recording.ready only: {id, startedAt, endedAt, durationSeconds, bytes})}}`);
    // A recording's URLs, absolute on this edge (the origin the sidecar reaches it at).
    if (event.data.recording) event.data.recording.urls = recordingUrls(event.data.playbackId, event.data.recording.id, new URL(c.req.url).origin);
    if (!options.webhooks) return c.json({ recorded: false, deliveries: 0, reason: 'no webhooks configured (WEBHOOK_URLS, WEBHOOK_SECRET)' }, 202);
    return c.json(await options.webhooks.accept(event), 202);
  });

  routes.post('/outputs', async (c) => {
    const parsed = parseOutputStatesReport(await jsonBody(c, EVENT_BODY_LIMIT_BYTES, 'output reports', 'expected a JSON report {playbackId, outputs: [{id, state, reason?}]}'));
    if (!parsed.ok) throw httpError(400, parsed.reason);
    // Streams of a streams file (--stream-registry file) have no outputs here: nothing to record.
    if (!options.outputs) return c.json({ recorded: false, reason: 'this edge has no stream registry' }, 202);
    await options.outputs.recordStates(parsed.report.playbackId, parsed.report.outputs, new Date().toISOString());
    return c.json({ recorded: true }, 202);
  });

  routes.post('/lookup', async (c) => {
    if (!options.registry) throw httpError(501, 'this edge has no stream registry: run the sidecar with --stream-registry file');
    const expected = 'expected a JSON body {"keys": [...]}';
    const body = await jsonBody(c, BODY_LIMIT_BYTES, 'bodies', expected);
    if (body === null) throw httpError(400, expected);
    const keys = (body as { keys?: unknown }).keys;
    if (!Array.isArray(keys) || keys.length > MAX_LOOKUP_KEYS || !keys.every((key) => typeof key === 'string' && KEY_SHA256_PATTERN.test(key))) {
      throw httpError(400, `keys must be an array of at most ${MAX_LOOKUP_KEYS} SHA-256 hashes (64 lower-case hex digits)`);
    }
    const registry = options.registry;
    const streams = await Promise.all(
      (keys as string[]).map(async (key) => {
        const stream = await registry.findByKeySha256(key);
        if (!stream) return null;
        // An output whose key does not open cannot run: the API shows it as failed.
        const outputs = (await options.outputs?.list(stream.playbackId))?.filter((output) => !output.keyUnreadable).map(({ id, url, key }) => ({ id, url, key }));
        return { name: stream.name, playbackId: stream.playbackId, playback: stream.playback, enabled: stream.enabled, reconnectWindowSeconds: stream.reconnectWindowSeconds, retention: stream.retention, ...(stream.recording != null ? { recording: stream.recording } : {}), ...(stream.recordingDays != null ? { recordingDays: stream.recordingDays } : {}), ...(outputs?.length ? { outputs } : {}) };
      }),
    );
    const answer: LookupResponse = { configured: await registry.count(), streams };
    return c.json(answer);
  });
  return routes;
}
