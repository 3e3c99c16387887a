/**
 * Webhook delivery on Node/Deno's in-process queue, over SQLite, to a real local HTTP receiver:
 * signed (verified as a receiver would), delivered once per event and endpoint, retried with
 * backoff after a 500, given up after the last attempt; all in the delivery log.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { InProcessWebhookQueue } from '../../../edge/platform/in-process-webhook-queue.ts';
import { SqliteClient } from '../../../edge/platform/sqlite-client.ts';
import { WebhookLog } from '../../../edge/platform/webhook-log.ts';
import { MAX_ATTEMPTS, retryDelaySeconds, Webhooks } from '../../../edge/platform/webhooks.ts';
import { platformWebhooks } from '../../../edge/platform/platform-webhooks.ts';
import { SqlStreamRegistry } from '../../../edge/platform/stream-registry.ts';
import { PROJECT_ROOT } from '../../../scripts/lib/local-platform.ts';
import { newEventId, verifyWebhook, webhookHeaders, type WebhookEvent } from '../../../shared/webhooks.ts';

const SECRET = 'webhook-test-secret';
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

interface Received {
  body: string;
  verified: boolean;
  eventId: string | null;
}

/** A receiver answering the statuses given in turn (then 200), verifying every signature. */
async function receiver(statuses: number[]): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', async () => {
      const headers = new Headers(Object.entries(request.headers).map(([name, value]) => [name, String(value)]));
      const check = await verifyWebhook(SECRET, headers, body, Date.now());
      received.push({ body, verified: check.ok, eventId: headers.get('webhook-id') });
      response.statusCode = statuses.shift() ?? 200;
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => server.close());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
}

function platform(endpoints: string[]) {
  const client = new SqliteClient(new DatabaseSync(':memory:'));
  const dir = join(PROJECT_ROOT, 'migrations');
  client.migrate(readdirSync(dir).map((name) => ({ name, sql: readFileSync(join(dir, name), 'utf8') })));
  const log = new WebhookLog(client);
  // Retries a hundred times sooner than in production: the backoff's shape, in hundredths.
  const queue = new InProcessWebhookQueue({ millisecondsPerSecond: 10 });
  cleanups.push(() => queue.stop());
  const webhooks = new Webhooks({ log, queue, endpoints, secret: SECRET });
  queue.consumeWith((job) => webhooks.attempt(job));
  return { log, webhooks };
}

const event = (type: WebhookEvent['type'] = 'stream.connected'): WebhookEvent => ({ id: newEventId(), type, createdAt: new Date().toISOString(), data: { playbackId: 'pbmain', name: 'main' } });

async function until<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('webhook signatures', () => {
  it('verify for the same secret, id and body; not for another secret, a changed body, or an old timestamp', async () => {
    const body = JSON.stringify(event());
    const headers = new Headers(await webhookHeaders(SECRET, 'evt_0123456789abcdef', body, Date.now()));
    expect(await verifyWebhook(SECRET, headers, body, Date.now())).toEqual({ ok: true, eventId: 'evt_0123456789abcdef' });
    expect(await verifyWebhook('other', headers, body, Date.now())).toMatchObject({ ok: false });
    expect(await verifyWebhook(SECRET, headers, body.replace('main', 'evil'), Date.now())).toMatchObject({ ok: false });
    expect(await verifyWebhook(SECRET, headers, body, Date.now() + 600_000)).toMatchObject({ ok: false, reason: expect.stringMatching(/timestamp/) });
  });
});

describe('webhook delivery through the in-process queue', () => {
  it('delivers each event once to each endpoint, signed; a repeated event id delivers nothing', async () => {
    const [a, b] = [await receiver([]), await receiver([])];
    const { webhooks, log } = platform([a.url, b.url]);
    const connected = event();
    expect(await webhooks.accept(connected)).toEqual({ recorded: true, deliveries: 2 });
    expect(await webhooks.accept(connected)).toEqual({ recorded: false, deliveries: 0 });
    await until(async () => ((await log.list({ limit: 10 })).every((delivery) => delivery.status === 'delivered') ? true : undefined));
    for (const { received } of [a, b]) {
      expect(received).toHaveLength(1);
      expect(received[0]).toMatchObject({ verified: true, eventId: connected.id });
      expect(JSON.parse(received[0]!.body)).toEqual(connected);
    }
  });

  it('retries after a 500 with backoff, then records the delivery', async () => {
    const endpoint = await receiver([500, 503]);
    const { webhooks, log } = platform([endpoint.url]);
    await webhooks.accept(event('stream.idle'));
    const [delivered] = await until(async () => {
      const deliveries = await log.list({ limit: 10 });
      return deliveries[0]?.status === 'delivered' ? deliveries : undefined;
    });
    expect(delivered).toMatchObject({ eventType: 'stream.idle', attempts: 3, lastStatus: 200, lastError: null });
    expect(endpoint.received.map((request) => request.eventId)).toEqual([delivered!.eventId, delivered!.eventId, delivered!.eventId]);
    expect(endpoint.received.every((request) => request.verified)).toBe(true);
    expect([1, 2, 3].map(retryDelaySeconds)).toEqual([2, 4, 8]);
  });

  it("sends a stream's events to its own endpoints when it has some, other streams' to the platform's", async () => {
    const [platformEndpoint, streamEndpoint] = [await receiver([]), await receiver([])];
    const client = new SqliteClient(new DatabaseSync(':memory:'));
    const dir = join(PROJECT_ROOT, 'migrations');
    client.migrate(readdirSync(dir).map((name) => ({ name, sql: readFileSync(join(dir, name), 'utf8') })));
    const at = new Date().toISOString();
    await new SqlStreamRegistry(client).create({ name: 'own', playbackId: 'pbown', keySha256: 'e'.repeat(64), playback: 'public', reconnectWindowSeconds: null, retention: null, enabled: true, createdAt: at, keyRotatedAt: at, updatedAt: at, webhookUrls: [streamEndpoint.url] });
    const queue = new InProcessWebhookQueue({ millisecondsPerSecond: 10 });
    cleanups.push(() => queue.stop());
    const { webhooks } = platformWebhooks(client, { WEBHOOK_URLS: platformEndpoint.url, WEBHOOK_SECRET: SECRET }, queue);
    queue.consumeWith((job) => webhooks!.attempt(job));
    const own = { ...event(), data: { playbackId: 'pbown', name: 'own' } };
    const other = event();
    await webhooks!.accept(own);
    await webhooks!.accept(other);
    await until(() => (streamEndpoint.received.length + platformEndpoint.received.length >= 2 ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(streamEndpoint.received.map((request) => request.eventId)).toEqual([own.id]);
    expect(platformEndpoint.received.map((request) => request.eventId)).toEqual([other.id]);
  });

  it('gives up after the last attempt and says so in the log', async () => {
    const endpoint = await receiver(Array(MAX_ATTEMPTS).fill(500));
    const { webhooks, log } = platform([endpoint.url]);
    await webhooks.accept(event('stream.errored'));
    const [failed] = await until(async () => {
      const deliveries = await log.list({ limit: 10 });
      return deliveries[0]?.status === 'failed' ? deliveries : undefined;
    }, 30_000);
    expect(failed).toMatchObject({ attempts: MAX_ATTEMPTS, lastStatus: 500, lastError: 'answered 500' });
    expect(endpoint.received).toHaveLength(MAX_ATTEMPTS);
  });
});
