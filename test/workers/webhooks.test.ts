/// <reference types="@cloudflare/vitest-plugin/types" />
/**
 * Webhooks in workerd with D1 and the Queues binding of wrangler.toml: a sidecar's event recorded
 * once and its deliveries queued; a consumed delivery whose endpoint does not answer retried with
 * backoff (the queue's retry with a delay) and logged; the delivery log behind the admin token;
 * hostile events refused.
 */
import { applyD1Migrations, createExecutionContext, createMessageBatch, getQueueResult, type D1Migration } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import type { WebhookJob } from '../../edge/platform/webhooks.ts';
import worker, { createWorkerApp, type Env } from '../../edge/worker.ts';
import { registryLookupToken } from '../../shared/registry-lookup.ts';
import { newEventId } from '../../shared/webhooks.ts';

const bindings = env as unknown as Env & { TEST_MIGRATIONS: D1Migration[] };
const INGEST_SECRET = 'webhooks-ingest-secret';
const ADMIN_TOKEN = 'webhooks-admin-token';
// Nothing listens on the discard port: every attempt fails to connect.
const DEAD_ENDPOINT = 'http://127.0.0.1:9/hooks';
// The worker's settings as production gets them: its app and its queue handler are built from these.
const workerEnv: Env = { ...bindings, INGEST_SECRET, ADMIN_TOKEN, WEBHOOK_URLS: DEAD_ENDPOINT, WEBHOOK_SECRET: 'webhooks-signing-secret' };
const app = createWorkerApp(workerEnv);

const report = async (body: unknown) =>
  app.request('https://edge.example.com/_ingest/registry/events', { method: 'POST', headers: { authorization: `Bearer ${await registryLookupToken(INGEST_SECRET)}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
const deliveries = async (query = '') => (await app.request(`https://edge.example.com/api/v1/webhooks/deliveries${query}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json() as Promise<{ deliveries: { id: number; eventId: string; status: string; attempts: number; lastError: string | null }[] }>;

beforeAll(async () => {
  await applyD1Migrations(bindings.DB, bindings.TEST_MIGRATIONS);
});

describe('webhooks in workerd', () => {
  it('records an event once and queues one delivery per endpoint; a failed attempt is retried with backoff and logged', async () => {
    const event = { id: newEventId(), type: 'stream.connected', createdAt: new Date().toISOString(), data: { playbackId: 'pbmain', name: 'main' } };
    expect(await (await report(event)).json()).toEqual({ recorded: true, deliveries: 1 });
    expect(await (await report(event)).json()).toEqual({ recorded: false, deliveries: 0 });
    const [queued] = (await deliveries('?stream=pbmain')).deliveries.filter((delivery) => delivery.eventId === event.id);
    expect(queued).toMatchObject({ status: 'pending', attempts: 0 });

    const batch = createMessageBatch<WebhookJob>('edge-live-webhooks', [{ id: 'message-1', timestamp: new Date(), attempts: 1, body: { deliveryId: queued!.id } }]);
    const ctx = createExecutionContext();
    await worker.queue(batch, workerEnv);
    const result = await getQueueResult(batch, ctx);
    // Retried (with the delay Webhooks.attempt answered: 2 s after a first failure), not acknowledged.
    expect(result.retryMessages.map((message) => message.msgId)).toEqual(['message-1']);
    expect(result.explicitAcks).toEqual([]);
    const [attempted] = (await deliveries()).deliveries.filter((delivery) => delivery.eventId === event.id);
    expect(attempted).toMatchObject({ status: 'pending', attempts: 1, lastError: expect.any(String) });
  });

  it.each([
    { name: 'an unknown type', body: { id: newEventId(), type: 'stream.hacked', createdAt: new Date().toISOString(), data: { playbackId: 'pbmain' } } },
    { name: 'a bad id', body: { id: "evt_'; DROP TABLE webhook_events; --", type: 'stream.idle', createdAt: new Date().toISOString(), data: { playbackId: 'pbmain' } } },
    { name: 'a bad playback id', body: { id: newEventId(), type: 'stream.idle', createdAt: new Date().toISOString(), data: { playbackId: '../x' } } },
    { name: 'an error without a code', body: { id: newEventId(), type: 'stream.errored', createdAt: new Date().toISOString(), data: { playbackId: 'pbmain' } } },
    { name: 'a code on another event', body: { id: newEventId(), type: 'stream.idle', createdAt: new Date().toISOString(), data: { playbackId: 'pbmain', code: 'storage-failing' } } },
  ])('refuses $name with 400, recording nothing', async ({ body }) => {
    const before = (await deliveries()).deliveries.length;
    expect((await report(body)).status).toBe(400);
    expect((await deliveries()).deliveries.length).toBe(before);
  });

  it('keeps the delivery log behind the admin token, and events behind the ingest channel', async () => {
    expect((await app.request('https://edge.example.com/api/v1/webhooks/deliveries')).status).toBe(401);
    expect((await app.request('https://edge.example.com/api/v1/webhooks/deliveries', { headers: { authorization: 'Bearer guess' } })).status).toBe(403);
    expect((await app.request('https://edge.example.com/api/v1/webhooks/deliveries?limit=0', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status).toBe(400);
    const unsigned = await app.request('https://edge.example.com/_ingest/registry/events', { method: 'POST', headers: { authorization: `Bearer ${INGEST_SECRET}` }, body: '{}' });
    expect(unsigned.status).toBe(403);
  });
});
