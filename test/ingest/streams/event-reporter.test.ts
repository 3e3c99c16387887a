/**
 * A stream's events from the sidecar to a webhook receiver, all real and in this process: the
 * sidecar's EventReporter posts to the edge app (SQLite log, in-process queue), which delivers
 * signed to a local HTTP receiver. Once per event (a resent event is not delivered again), the
 * edge retried while it is down, stream.errored at most once a minute per code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { serve, type ServerType } from '@hono/node-server';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../../edge/app.ts';
import { InProcessWebhookQueue } from '../../../edge/platform/in-process-webhook-queue.ts';
import { SqliteClient } from '../../../edge/platform/sqlite-client.ts';
import { WebhookLog } from '../../../edge/platform/webhook-log.ts';
import { Webhooks } from '../../../edge/platform/webhooks.ts';
import { EventReporter } from '../../../ingest/streams/event-reporter.ts';
import { PROJECT_ROOT } from '../../../scripts/lib/local-platform.ts';
import { freePort } from '../../../scripts/lib/free-port.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import { newEventId, verifyWebhook, type WebhookEvent } from '../../../shared/webhooks.ts';

const INGEST_SECRET = 'event-reporter-ingest-secret';
const WEBHOOK_SECRET = 'event-reporter-webhook-secret';
const closers: (() => void)[] = [];
afterEach(() => {
  for (const close of closers.splice(0)) close();
});

async function receiver(): Promise<{ url: string; events: WebhookEvent[] }> {
  const events: WebhookEvent[] = [];
  const server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', async () => {
      const headers = new Headers(Object.entries(request.headers).map(([name, value]) => [name, String(value)]));
      if ((await verifyWebhook(WEBHOOK_SECRET, headers, body, Date.now())).ok) events.push(JSON.parse(body) as WebhookEvent);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => server.close());
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, events };
}

async function edge(endpoint: string, port = 0) {
  const client = new SqliteClient(new DatabaseSync(':memory:'));
  const dir = join(PROJECT_ROOT, 'migrations');
  client.migrate(readdirSync(dir).map((name) => ({ name, sql: readFileSync(join(dir, name), 'utf8') })));
  const queue = new InProcessWebhookQueue();
  const webhookLog = new WebhookLog(client);
  const webhooks = new Webhooks({ log: webhookLog, queue, endpoints: [endpoint], secret: WEBHOOK_SECRET });
  queue.consumeWith((job) => webhooks.attempt(job));
  const app = createApp({ store: new MemoryObjectStore(), ingestSecret: INGEST_SECRET, webhooks, webhookLog, assets: { hlsJsVersion: '1', hlsJsSource: '', dashJsVersion: '1', dashJsSource: '' } });
  const server: ServerType = serve({ fetch: app.fetch, hostname: '127.0.0.1', port });
  await new Promise((resolve) => server.once('listening', resolve));
  closers.push(() => {
    queue.stop();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, webhookLog };
}

const reporter = (edgeUrl: string) => new EventReporter({ edgeUrl, ingestSecret: INGEST_SECRET, log: pino({ level: 'silent' }), retryDelayMs: () => 200 });

async function until<T>(check: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('stream events from the sidecar to a webhook receiver', () => {
  it('delivers each event once, signed, with the stream it is about', async () => {
    const hooks = await receiver();
    const platform = await edge(hooks.url);
    const events = reporter(platform.url);
    events.report('stream.connected', { playbackId: 'pbmain', name: 'main' });
    const event: WebhookEvent = { id: newEventId(), type: 'stream.idle', createdAt: new Date().toISOString(), data: { playbackId: 'pbmain', name: 'main' } };
    expect(await events.send(event)).toBe(true);
    expect(await events.send(event)).toBe(true);
    await until(() => (hooks.events.length >= 2 ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(hooks.events.map((received) => received.type).sort()).toEqual(['stream.connected', 'stream.idle']);
    expect(hooks.events.find((received) => received.type === 'stream.connected')?.data).toEqual({ playbackId: 'pbmain', name: 'main' });
    expect((await platform.webhookLog.list({ limit: 10 })).map((delivery) => delivery.status)).toEqual(['delivered', 'delivered']);
  });

  it('sends an errored event at most once a minute per stream and code, with its code', async () => {
    const hooks = await receiver();
    const platform = await edge(hooks.url);
    const events = reporter(platform.url);
    events.errored({ playbackId: 'pbmain' }, 'storage-failing', 'storing the stream failed: 503');
    events.errored({ playbackId: 'pbmain' }, 'storage-failing', 'storing the stream failed: 503 again');
    events.errored({ playbackId: 'pbmain' }, 'gop-out-of-range', 'the source went more than 6 s without a keyframe');
    await until(() => (hooks.events.length >= 2 ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(hooks.events.map((received) => received.data.code).sort()).toEqual(['gop-out-of-range', 'storage-failing']);
  });

  it('sends an event again while the edge is down (same id), and it is delivered once when the edge is back', async () => {
    const hooks = await receiver();
    const port = await freePort();
    const events = reporter(`http://127.0.0.1:${port}`);
    const event: WebhookEvent = { id: newEventId(), type: 'stream.disconnected', createdAt: new Date().toISOString(), data: { playbackId: 'pbmain' } };
    const sent = events.send(event);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await edge(hooks.url, port);
    expect(await sent).toBe(true);
    await until(() => (hooks.events.length >= 1 ? true : undefined));
    expect(hooks.events).toEqual([event]);
  });
});
