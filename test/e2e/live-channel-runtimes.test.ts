/**
 * The sidecar's live channel on the self-hosted edges, end to end: the sidecar's parts reach the
 * Deno edge (Deno.upgradeWebSocket through hono/deno) and the Node edge (ws under
 * @hono/node-server) over one WebSocket per stream, and the playlists list them, each part
 * served with bytes.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { startS3Server, type TestS3Server } from '../helpers/s3-server.ts';
import { eventually } from '../helpers/network.ts';
import { startTestPlatform, type Platform } from '../helpers/platform.ts';
import { publishTestPattern, type TestPublisher } from '../helpers/publisher.ts';

async function partsListed(edgeUrl: string, stream: string): Promise<void> {
  const text = await eventually(`parts listed on ${edgeUrl}`, 40_000, async () => {
    const response = await fetch(`${edgeUrl}/live/${stream}/source/index.m3u8`);
    const body = response.ok ? await response.text() : '';
    return (body.match(/^#EXT-X-PART:/gm)?.length ?? 0) >= 3 ? body : undefined;
  });
  expect(text).toContain('#EXT-X-PRELOAD-HINT:TYPE=PART');
  const parts = [...text.matchAll(/URI="([^"]+\.p\d+\.m4s)"/g)].map((match) => match[1]!);
  for (const part of parts.slice(-3)) {
    const response = await fetch(`${edgeUrl}/live/${stream}/source/${part}`);
    expect(response.status, part).toBe(200);
    expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(0);
  }
}

describe('live channel on the self-hosted edges', () => {
  let s3: TestS3Server | undefined;
  const running: Array<{ platform: Platform; publisher: TestPublisher }> = [];

  afterAll(async () => {
    for (const { platform, publisher } of running) {
      await publisher.stop();
      await platform.stop();
    }
    await s3?.close();
  });

  it('carries parts to the Deno edge', async () => {
    s3 = await startS3Server();
    const lines: string[] = [];
    const platform = await startTestPlatform('e2e-live-channel-deno', {
      edge: 'deno',
      lines,
      s3: { endpoint: s3.endpoint, bucket: s3.bucket, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      ingest: { reconnectWindow: 0, args: ['--ladder', 'none'] },
    });
    running.push({ platform, publisher: publishTestPattern(platform.publishUrl('denoparts'), 40) });
    await partsListed(platform.edgeUrl, 'denoparts');
    expect(lines.filter((line) => line.includes('live channel'))).toEqual([]);
  });

  it('carries parts to the Node edge', async () => {
    const lines: string[] = [];
    const platform = await startTestPlatform('e2e-live-channel-node', { edge: 'node', lines, ingest: { reconnectWindow: 0, args: ['--ladder', 'none'] } });
    running.push({ platform, publisher: publishTestPattern(platform.publishUrl('nodeparts'), 40) });
    await partsListed(platform.edgeUrl, 'nodeparts');
    expect(lines.filter((line) => line.includes('live channel'))).toEqual([]);
  });
});
