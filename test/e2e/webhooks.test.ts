/**
 * Webhooks over the real path (issue 16 item 4): a publisher on a sidecar that asks the platform
 * (--stream-registry edge), the edge under wrangler dev with its local D1 and Queues, and a
 * receiver on this machine that answers the first delivery 500. Each of stream.connected,
 * stream.active, stream.disconnected and stream.idle arrives signed, once (after the 500 the
 * same event id again), and the delivery log says what happened.
 */
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../scripts/lib/local-platform.ts';
import { verifyWebhook, type WebhookEvent } from '../../shared/webhooks.ts';
import { eventually, within } from '../helpers/network.ts';
import { publishTestPattern } from '../helpers/publisher.ts';
import { startRegistryPlatform, type RegistryPlatform } from '../helpers/registry-platform.ts';
import { saveTestLog } from '../helpers/test-log.ts';

const WEBHOOK_SECRET = randomBytes(24).toString('base64url');

interface Arrival {
  event: WebhookEvent;
  verified: boolean;
  status: number;
}

describe('webhooks through wrangler dev and its local queue', () => {
  let dir: string;
  let edgeUrl: string;
  let rtmpBase: string;
  let platform: RegistryPlatform | undefined;
  let receiver: Server;
  const arrivals: Arrival[] = [];
  const lines: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-webhooks-'));
    // The first delivery is answered 500: it must come again, with the same id.
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', async () => {
        const headers = new Headers(Object.entries(request.headers).map(([name, value]) => [name, String(value)]));
        const check = await verifyWebhook(WEBHOOK_SECRET, headers, body, Date.now());
        const status = arrivals.length === 0 ? 500 : 200;
        arrivals.push({ event: JSON.parse(body) as WebhookEvent, verified: check.ok, status });
        lines.push(`[receiver] ${status} ${body}`);
        response.statusCode = status;
        response.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const hooks = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    platform = await startRegistryPlatform({ dir, lines, vars: { WEBHOOK_URLS: hooks, WEBHOOK_SECRET } });
    ({ edgeUrl, rtmpBase } = platform);
  });

  afterAll(async () => {
    await platform?.stop();
    receiver?.close();
    rmSync(dir, { recursive: true, force: true });
    saveTestLog('e2e-webhooks', lines);
  });

  it('delivers connected, active, disconnected and idle once each, signed, retrying after a 500', async () => {
    const added = spawnSync(process.execPath, [join(PROJECT_ROOT, 'ingest/streams/cli.ts'), '--json', 'add', 'main'], { encoding: 'utf8', env: { ...process.env, EDGE_URL: edgeUrl, ADMIN_TOKEN: platform!.adminToken } });
    expect(added.status, added.stderr).toBe(0);
    const { streamKey, playbackId } = JSON.parse(added.stdout) as { streamKey: string; playbackId: string };

    const publisher = publishTestPattern(`${rtmpBase}/${streamKey}`, 8);
    await within('the publisher to finish', 60_000, publisher.exited);

    const types = ['stream.connected', 'stream.active', 'stream.disconnected', 'stream.idle'];
    const delivered = await eventually('every event delivered', 60_000, async () => {
      const ok = arrivals.filter((arrival) => arrival.status === 200);
      return types.every((type) => ok.some((arrival) => arrival.event.type === type)) ? ok : undefined;
    });
    // A moment more: nothing arrives twice.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(arrivals.every((arrival) => arrival.verified)).toBe(true);
    expect(delivered.map((arrival) => arrival.event.type).sort()).toEqual([...types].sort());
    expect(new Set(arrivals.filter((arrival) => arrival.status === 200).map((arrival) => arrival.event.id)).size).toBe(4);
    for (const { event } of delivered) expect(event.data).toEqual({ playbackId, name: 'main' });
    // The one answered 500 came again under the same id.
    const [first] = arrivals;
    expect(first!.status).toBe(500);
    expect(arrivals.filter((arrival) => arrival.event.id === first!.event.id).map((arrival) => arrival.status)).toEqual([500, 200]);
    const order = delivered.map((arrival) => arrival.event.type);
    expect(order.indexOf('stream.connected')).toBeLessThan(order.indexOf('stream.idle'));

    const log = (await (await fetch(`${edgeUrl}/api/v1/webhooks/deliveries?stream=${playbackId}`, { headers: { authorization: `Bearer ${platform!.adminToken}` } })).json()) as { deliveries: { eventId: string; status: string; attempts: number; lastStatus: number }[] };
    expect(log.deliveries).toHaveLength(4);
    expect(log.deliveries.every((delivery) => delivery.status === 'delivered' && delivery.lastStatus === 200)).toBe(true);
    expect(log.deliveries.find((delivery) => delivery.eventId === first!.event.id)?.attempts).toBe(2);
    expect(lines.join('\n')).not.toContain(streamKey);
  });
});
