/**
 * The same edge app on other runtimes: Node with a folder for storage, Deno (the `deno` binary
 * from npm) with an S3-compatible server. The sidecar uploads through each edge's write API, and
 * players read from it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3ObjectStore } from '../../shared/storage/s3-object-store.ts';
import { startS3Server, type TestS3Server } from '../helpers/s3-server.ts';
import { concatBytes } from '../../ingest/package/bytes.ts';
import { probeDecode } from '../helpers/ffprobe.ts';
import { parseM3u8 } from '../helpers/m3u8.ts';
import { eventually } from '../helpers/network.ts';
import { startTestPlatform, type Platform } from '../helpers/platform.ts';
import { openPlayerPage, playInChromium, waitForPlayheadPast } from '../helpers/players.ts';
import { publishTestPattern, type TestPublisher } from '../helpers/publisher.ts';

describe('the edge on Node with filesystem storage', () => {
  let dir: string;
  let edgeUrl: string;
  let platform: Platform | undefined;
  let publisher: TestPublisher | undefined;

  beforeAll(async () => {
    platform = await startTestPlatform('e2e-edge-runtimes', { edge: 'node', ingest: { reconnectWindow: 0 } });
    ({ dir, edgeUrl } = platform);
    publisher = publishTestPattern(platform.publishUrl('onnode'), 45);
  });

  afterAll(async () => {
    await publisher?.stop();
    await platform?.stop();
  });

  it('stores through the Node edge into its folder, serves decodable segments, and hls.js plays', async () => {
    const playlist = await eventually('three segments on the Node edge', 40_000, async () => {
      const response = await fetch(`${edgeUrl}/live/onnode/source/index.m3u8`);
      const manifest = response.ok ? parseM3u8(await response.text()) : undefined;
      return manifest && manifest.segments.length >= 3 ? manifest : undefined;
    });
    expect(existsSync(join(dir, 'media', 'streams', 'onnode', 'index.m3u8'))).toBe(true);
    const get = async (uri: string) => new Uint8Array(await (await fetch(`${edgeUrl}/live/onnode/source/${uri}`)).arrayBuffer());
    const bytes = concatBytes([await get(playlist.segments[0]!.map!.uri), await get(playlist.segments[1]!.uri)]);
    expect((await probeDecode(bytes)).decodedFrames).toBeGreaterThan(30);
    const playback = await playInChromium(`${edgeUrl}/watch/onnode`, 3);
    expect(playback.fatal).toBeNull();
  });

  it('keeps the player page playing through a 4 s outage of the edge (it retries, then catches up)', async () => {
    const player = await openPlayerPage(`${edgeUrl}/watch/onnode`);
    try {
      await eventually('the player to start', 30_000, async () => ((await player.state()).playing ? true : undefined));
      await platform!.restartEdge({ downForMs: 4000 });
      const afterOutage = await player.currentTime();
      await waitForPlayheadPast(player, afterOutage + 3, 'playback to move on after the outage', 30_000);
      const state = await player.state();
      expect(state.fatal).toBeNull();
      // The outage was seen (and recovered from), not missed.
      expect(state.errors.some((error) => error.type === 'networkError')).toBe(true);
    } finally {
      await player.close();
    }
  });
});

describe('the edge on Deno with S3-compatible storage', () => {
  let edgeUrl: string;
  let s3: TestS3Server | undefined;
  let platform: Platform | undefined;
  let publisher: TestPublisher | undefined;
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

  beforeAll(async () => {
    s3 = await startS3Server();
    platform = await startTestPlatform('e2e-edge-runtimes-deno', {
      edge: 'deno',
      s3: { endpoint: s3.endpoint, bucket: s3.bucket, ...credentials },
      ingest: { reconnectWindow: 0 },
    });
    edgeUrl = platform.edgeUrl;
    publisher = publishTestPattern(platform.publishUrl('ondeno'), 20);
  });

  afterAll(async () => {
    await publisher?.stop();
    await platform?.stop();
    await s3?.close();
  });

  it('stores through the Deno edge into the bucket, serves decodable segments with ranges, and hls.js plays', async () => {
    const playlist = await eventually('three segments on the Deno edge', 40_000, async () => {
      const response = await fetch(`${edgeUrl}/live/ondeno/source/index.m3u8`);
      const manifest = response.ok ? parseM3u8(await response.text()) : undefined;
      return manifest && manifest.segments.length >= 3 ? manifest : undefined;
    });
    const bucket = new S3ObjectStore({ endpoint: s3!.endpoint, bucket: s3!.bucket, region: 'auto', ...credentials });
    expect(await bucket.head('streams/ondeno/index.m3u8')).not.toBeNull();
    const get = async (uri: string, init?: RequestInit) => fetch(`${edgeUrl}/live/ondeno/source/${uri}`, init);
    const media = new Uint8Array(await (await get(playlist.segments[1]!.uri)).arrayBuffer());
    const bytes = concatBytes([new Uint8Array(await (await get(playlist.segments[0]!.map!.uri)).arrayBuffer()), media]);
    expect((await probeDecode(bytes)).decodedFrames).toBeGreaterThan(30);
    const ranged = await get(playlist.segments[1]!.uri, { headers: { range: 'bytes=0-99' } });
    expect(ranged.status).toBe(206);
    expect(new Uint8Array(await ranged.arrayBuffer())).toEqual(media.subarray(0, 100));
    const playback = await playInChromium(`${edgeUrl}/watch/ondeno`, 3);
    expect(playback.fatal).toBeNull();
  });
});
