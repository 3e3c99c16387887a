/**
 * Signed playback end to end: a keyed stream marked signed, published over RTMP; the edge (in
 * the Workers runtime) refuses its playlists and segments without a token, and hls.js and
 * dash.js play it with a token minted by the sidecar's operations API.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamStore } from '../../ingest/streams/stream-store.ts';
import { mintPlaybackToken } from '../../shared/playback-token.ts';
import { parseM3u8 } from '../helpers/m3u8.ts';
import { eventually } from '../helpers/network.ts';
import { startTestPlatform, type Platform } from '../helpers/platform.ts';
import { playInChromium } from '../helpers/players.ts';
import { publishTestPattern, type TestPublisher } from '../helpers/publisher.ts';

const PLAYBACK_SECRET = randomBytes(16).toString('hex');
const ADMIN_TOKEN = randomBytes(12).toString('hex');
const INGEST_SECRET = randomBytes(16).toString('hex');

describe('signed playback, end to end', () => {
  let dir: string;
  let edgeUrl: string;
  let apiUrl: string;
  let playbackId: string;
  let platform: Platform | undefined;
  let publisher: TestPublisher | undefined;
  const lines: string[] = [];

  const get = (path: string) => fetch(new URL(path, edgeUrl), { signal: AbortSignal.timeout(5000) });
  const mint = async (ttlSeconds: number) => {
    const response = await fetch(`${apiUrl}/streams/${playbackId}/playback-tokens`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ttlSeconds }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { token: string }).token;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-signed-'));
    const streams = new StreamStore(join(dir, 'streams.json'));
    const { stream, key } = streams.add('vip', new Date(), 'signed');
    playbackId = stream.playbackId;
    platform = await startTestPlatform('e2e-signed-playback', {
      edge: 'wrangler',
      dir,
      lines,
      ingestSecret: INGEST_SECRET,
      playbackSecret: PLAYBACK_SECRET,
      ingest: { streamsFile: streams.path, reconnectWindow: 0, api: true, env: { ADMIN_TOKEN, PLAYBACK_SECRET } },
    });
    edgeUrl = platform.edgeUrl;
    apiUrl = platform.apiUrl;
    publisher = publishTestPattern(platform.publishUrl(key), 40);
    await eventually('the signed stream to be live', 30_000, async () => {
      const status = await get(`/live/${playbackId}/status.json`);
      return status.ok && ((await status.json()) as { playback?: string; renditions: unknown[] }).renditions.length > 0 ? true : undefined;
    });
  });

  afterAll(async () => {
    await publisher?.stop();
    await platform?.stop();
  });

  it('keeps its secrets off every command line on the machine (ps shows command lines to every user)', () => {
    const commandLines = readdirSync('/proc')
      .filter((entry) => /^\d+$/.test(entry))
      .map((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
        } catch {
          return ''; // gone meanwhile
        }
      });
    expect(commandLines.some((line) => line.includes('wrangler'))).toBe(true);
    for (const secret of [PLAYBACK_SECRET, INGEST_SECRET]) expect(commandLines.filter((line) => line.includes(secret))).toEqual([]);
  });

  it('says in its status that playback is signed, and refuses playlists, MPD and segments without a valid token', async () => {
    const status = (await (await get(`/live/${playbackId}/status.json`)).json()) as { playback: string };
    expect(status.playback).toBe('signed');
    const token = await mint(600);
    // The status lists a rendition as soon as its playlist exists, a moment before it lists a segment.
    const segment = await eventually('the source playlist to list a segment', 15_000, async () => {
      const media = parseM3u8(await (await get(`/live/${playbackId}/source/index.m3u8?token=${token}`)).text());
      return media.segments[0]?.uri.split('?')[0];
    });
    const expired = await mintPlaybackToken(PLAYBACK_SECRET, playbackId, Math.floor(Date.now() / 1000) - 5);
    for (const path of [`/live/${playbackId}/index.m3u8`, `/live/${playbackId}.m3u8`, `/live/${playbackId}/manifest.mpd`, `/live/${playbackId}/source/${segment}`]) {
      expect((await get(path)).status, path).toBe(401);
      expect((await get(`${path}?token=${expired}`)).status, path).toBe(403);
      expect((await get(`${path}?token=${token}`)).status, path).toBe(200);
    }
  });

  it('plays in hls.js and in dash.js with a minted token (every child URI carries it)', async () => {
    const token = await mint(600);
    const hls = await playInChromium(`${edgeUrl}/watch/${playbackId}?token=${token}`, 3);
    expect(hls.fatal).toBeNull();
    const dash = await playInChromium(`${edgeUrl}/watch/${playbackId}?format=dash&token=${token}`, 3);
    expect(dash.fatal).toBeNull();
    // Without a token the page loads but the player gets 401s: it never starts.
    await expect(playInChromium(`${edgeUrl}/watch/${playbackId}`, 1, 8000)).rejects.toThrow(/did not start/);
  });
});
