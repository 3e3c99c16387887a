/**
 * The sidecar's live channel on the self-hosted edges, end to end: the sidecar's parts reach the
 * Deno edge (Deno.upgradeWebSocket through hono/deno) and the Node edge (ws under
 * @hono/node-server) over one WebSocket per stream, and the playlists list them, each part
 * served with bytes. A segment is its parts: the edge stores each segment from the parts it was
 * sent (no HTTP upload of it, nothing refused), and what it stored is byte for byte the parts the
 * playlist lists for it, and decodes.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { probeDecode } from '../helpers/ffprobe.ts';
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

/**
 * The oldest segment the playlist lists with all its parts (from .p0): its name, its parts, its
 * init segment. The oldest: stored by now (a newer one may still be served from the parts in memory).
 */
function segmentWithParts(text: string): { init: string; segment: string; parts: string[] } | undefined {
  let init = '';
  let parts: string[] = [];
  let found: { init: string; segment: string; parts: string[] } | undefined;
  for (const line of text.split('\n')) {
    const map = /^#EXT-X-MAP:URI="([^"]+)"/.exec(line);
    if (map) init = map[1]!;
    const part = /^#EXT-X-PART:.*URI="([^"]+)"/.exec(line);
    if (part) parts.push(part[1]!);
    if (line.endsWith('.m4s') && !line.startsWith('#')) {
      const stem = line.slice(0, -'.m4s'.length);
      if (parts.length > 1 && parts[0] === `${stem}.p0.m4s` && parts.every((name) => name.startsWith(`${stem}.p`))) found ??= { init, segment: line, parts };
      parts = [];
    }
  }
  return found;
}

const bytesOf = async (url: string) => {
  const response = await fetch(url);
  expect(response.status, url).toBe(200);
  return new Uint8Array(await response.arrayBuffer());
};

const ADMIN_TOKEN = randomBytes(12).toString('hex');

/** The sidecar's count of segments the edge stored from their parts (`stored`) or did not (`uploaded` over HTTP instead). */
async function assembled(apiUrl: string, result: 'stored' | 'uploaded'): Promise<number> {
  const text = await (await fetch(`${apiUrl}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();
  return Number(new RegExp(`^ingest_segments_assembled_total\\{result="${result}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
}

/** The edge stored a segment from its parts: its bytes are the listed parts' end to end, and it decodes. */
async function segmentIsItsParts(platform: Platform, stream: string, lines: string[]): Promise<void> {
  const edgeUrl = platform.edgeUrl;
  const base = `${edgeUrl}/live/${stream}/source/`;
  const listed = await eventually(`a segment listed with its parts on ${edgeUrl}`, 40_000, async () => {
    const response = await fetch(`${base}index.m3u8`);
    return response.ok ? segmentWithParts(await response.text()) : undefined;
  });
  const [segment, init, ...parts] = await Promise.all([bytesOf(base + listed.segment), bytesOf(base + listed.init), ...listed.parts.map((part) => bytesOf(base + part))]);
  expect(Buffer.from(segment!).equals(Buffer.concat(parts)), `${listed.segment} against ${listed.parts.join(', ')}`).toBe(true);
  expect((await probeDecode(Buffer.concat([init!, segment!]))).decodedFrames).toBeGreaterThan(0);
  // Every segment went by its parts: the sidecar counts them, and says so when the edge did not store one (and uploads it).
  expect(await assembled(platform.apiUrl, 'stored')).toBeGreaterThanOrEqual(2);
  expect(await assembled(platform.apiUrl, 'uploaded')).toBe(0);
  expect(lines.filter((line) => line.includes('not stored by the edge from their parts'))).toEqual([]);
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

  it('carries parts to the Deno edge, which stores each segment from them', async () => {
    s3 = await startS3Server();
    const lines: string[] = [];
    const platform = await startTestPlatform('e2e-live-channel-deno', {
      edge: 'deno',
      lines,
      s3: { endpoint: s3.endpoint, bucket: s3.bucket, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      ingest: { reconnectWindow: 0, args: ['--ladder', 'none'], api: true, env: { ADMIN_TOKEN } },
    });
    running.push({ platform, publisher: publishTestPattern(platform.publishUrl('denoparts'), 40) });
    await partsListed(platform.edgeUrl, 'denoparts');
    await segmentIsItsParts(platform, 'denoparts', lines);
    expect(lines.filter((line) => line.includes('live channel'))).toEqual([]);
  });

  it('carries parts to the Node edge, which stores each segment from them', async () => {
    const lines: string[] = [];
    const platform = await startTestPlatform('e2e-live-channel-node', { edge: 'node', lines, ingest: { reconnectWindow: 0, args: ['--ladder', 'none'], api: true, env: { ADMIN_TOKEN } } });
    running.push({ platform, publisher: publishTestPattern(platform.publishUrl('nodeparts'), 40) });
    await partsListed(platform.edgeUrl, 'nodeparts');
    await segmentIsItsParts(platform, 'nodeparts', lines);
    expect(lines.filter((line) => line.includes('live channel'))).toEqual([]);
  });
});
