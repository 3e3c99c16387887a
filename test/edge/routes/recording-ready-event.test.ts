/** stream.recording.ready from the sidecar to an endpoint: checked, its URLs made absolute on the edge, delivered signed. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import { errorResponse } from '../../../edge/errors.ts';
import { InProcessWebhookQueue } from '../../../edge/platform/in-process-webhook-queue.ts';
import { SqliteClient } from '../../../edge/platform/sqlite-client.ts';
import { WebhookLog } from '../../../edge/platform/webhook-log.ts';
import { Webhooks } from '../../../edge/platform/webhooks.ts';
import { registryLookupRoutes } from '../../../edge/routes/registry-lookup.ts';
import { PROJECT_ROOT } from '../../../scripts/lib/local-platform.ts';
import { registryLookupToken } from '../../../shared/registry-lookup.ts';
import { newEventId, verifyWebhook, WEBHOOK_EVENTS_PATH, type WebhookEvent } from '../../../shared/webhooks.ts';

const INGEST_SECRET = 'ingest-secret-for-recording-events';
const WEBHOOK_SECRET = 'webhook-secret-for-recording-events';
const RECORDING = { id: 'r00000000xyz', startedAt: '2026-12-06T09:00:00.000Z', endedAt: '2026-12-06T09:10:00.000Z', durationSeconds: 600, bytes: 4_000_000 };
const stops: (() => void)[] = [];
afterEach(() => stops.splice(0).forEach((stop) => stop()));

function edge() {
  const client = new SqliteClient(new DatabaseSync(':memory:'));
  const dir = join(PROJECT_ROOT, 'migrations');
  client.migrate(readdirSync(dir).filter((name) => name.endsWith('.sql')).map((name) => ({ name, sql: readFileSync(join(dir, name), 'utf8') })));
  const queue = new InProcessWebhookQueue({ millisecondsPerSecond: 10 });
  stops.push(() => queue.stop());
  const delivered: { body: string; headers: Headers }[] = [];
  const webhooks = new Webhooks({
    log: new WebhookLog(client),
    queue,
    endpoints: ['https://hooks.example/recordings'],
    secret: WEBHOOK_SECRET,
    // The endpoint, as a receiver sees a delivery.
    fetch: async (_url, init) => {
      delivered.push({ body: String(init?.body), headers: new Headers(init?.headers) });
      return new Response(null, { status: 204 });
    },
  });
  queue.consumeWith((job) => webhooks.attempt(job));
  const app = new Hono();
  app.route('/_ingest/registry', registryLookupRoutes({ registry: undefined, secret: INGEST_SECRET, webhooks }));
  app.onError(errorResponse);
  const post = async (event: unknown) =>
    app.request(`https://edge.example${WEBHOOK_EVENTS_PATH}`, { method: 'POST', headers: { authorization: `Bearer ${await registryLookupToken(INGEST_SECRET)}`, 'content-type': 'application/json' }, body: JSON.stringify(event) });
  return { post, delivered };
}

const event = (data: Record<string, unknown>, type = 'stream.recording.ready') => ({ id: newEventId(), type, createdAt: new Date().toISOString(), data: { playbackId: 'colors', name: 'studio', ...data } });

describe('stream.recording.ready', () => {
  it('reaches the endpoint signed, with the recording and its URLs on the edge', async () => {
    const { post, delivered } = edge();
    const sent = event({ recording: RECORDING });
    expect((await post(sent)).status).toBe(202);
    for (let i = 0; i < 100 && delivered.length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(delivered).toHaveLength(1);
    const { body, headers } = delivered[0]!;
    expect((await verifyWebhook(WEBHOOK_SECRET, headers, body, Date.now())).ok).toBe(true);
    const received = JSON.parse(body) as WebhookEvent;
    expect(received).toMatchObject({ id: sent.id, type: 'stream.recording.ready' });
    expect(received.data).toEqual({
      playbackId: 'colors',
      name: 'studio',
      recording: {
        ...RECORDING,
        urls: { hls: 'https://edge.example/recordings/colors/r00000000xyz/index.m3u8', dash: 'https://edge.example/recordings/colors/r00000000xyz/manifest.mpd', mp4: 'https://edge.example/recordings/colors/r00000000xyz.mp4' },
      },
    });
  });

  it.each([
    { name: 'without its recording', sent: event({}) },
    { name: 'with a recording that is not one', sent: event({ recording: { ...RECORDING, bytes: -5 } }) },
    { name: 'a recording on another event', sent: event({ recording: RECORDING }, 'stream.idle') },
  ])('is refused $name (400), and nothing is delivered', async ({ sent }) => {
    const { post, delivered } = edge();
    expect((await post(sent)).status).toBe(400);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(delivered).toEqual([]);
  });
});
