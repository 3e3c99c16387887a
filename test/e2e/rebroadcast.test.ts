/**
 * Users reuse a stream id every day: today's broadcast at another resolution than yesterday's.
 * A viewer arriving while today's starts must never get yesterday's ladder: the status and the
 * multivariant playlist the edge serves agree at every moment, and nothing is served as live
 * before today's own multivariant playlist exists.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StreamStatus } from '../../shared/stream-status.ts';
import { parseM3u8 } from '../helpers/m3u8.ts';
import { makeFlv } from '../helpers/media-fixtures.ts';
import { eventually, within } from '../helpers/network.ts';
import { startTestPlatform, type Platform } from '../helpers/platform.ts';
import { publishFile } from '../helpers/publisher.ts';

interface Observation {
  state: string;
  statusRenditions: string[];
  playlist: number;
  playlistRenditions: string[];
}

describe('a new broadcast of a stream id used before', () => {
  let dir: string;
  let edgeUrl: string;
  let rtmpBase: string;
  let platform: Platform | undefined;
  const lines: string[] = [];

  beforeAll(async () => {
    // A 180p rung: made under a 240p source, not under a 144p one.
    platform = await startTestPlatform('e2e-rebroadcast', { edge: 'node', lines, ingest: { reconnectWindow: 0, args: ['--ladder', '180:200k', '--x264-preset', 'ultrafast'] } });
    ({ dir, edgeUrl, rtmpUrl: rtmpBase } = platform);
  });

  afterAll(async () => {
    await platform?.stop();
  });

  async function readStatus(): Promise<StreamStatus | undefined> {
    const statusResponse = await fetch(`${edgeUrl}/live/daily/status.json`, { signal: AbortSignal.timeout(5000) });
    return statusResponse.ok ? ((await statusResponse.json()) as StreamStatus) : undefined;
  }

  /**
   * What a viewer arriving now sees: the status, the multivariant playlist, and the status again.
   * Two requests are two moments: when the state changed between them (a broadcast going live
   * between the reads), the pair says nothing about either state, so it is `changing`.
   */
  async function observe(): Promise<Observation | undefined> {
    const status = await readStatus();
    if (!status) return undefined;
    const playlist = await fetch(`${edgeUrl}/live/daily/index.m3u8`, { signal: AbortSignal.timeout(5000) });
    const manifest = playlist.ok ? parseM3u8(await playlist.text()) : undefined;
    const folder = (uri: string) => uri.split('/')[0]!;
    const statusAfter = await readStatus();
    return {
      state: statusAfter?.state === status.state ? status.state : 'changing',
      statusRenditions: status.renditions.map((rendition) => rendition.name).sort(),
      playlist: playlist.status,
      playlistRenditions: [
        ...(manifest?.playlists ?? []).map((variant) => folder(variant.uri)),
        ...Object.values(manifest?.mediaGroups?.AUDIO ?? {}).flatMap((group) => Object.values(group).map((rendition) => folder(rendition.uri!))),
      ].sort(),
    };
  }

  it('never serves a live status beside the previous broadcast\'s ladder, and goes live with its own', async () => {
    // Yesterday: 240p with a 180p rung, then the end.
    const yesterday = publishFile(`${rtmpBase}/daily`, await makeFlv({ seconds: 8, gopFrames: 60, size: '426x240' }), join(dir, 'yesterday.flv'));
    await within('yesterday\'s broadcast to finish', 60_000, yesterday.exited);
    const ended = await eventually('yesterday\'s broadcast to end', 30_000, async () => {
      const seen = await observe();
      return seen?.state === 'ended' ? seen : undefined;
    });
    expect(ended.playlistRenditions).toEqual(['180p', 'audio', 'source']);

    // Today: 144p, so no rung. Watched closely from the first moment.
    const today = publishFile(`${rtmpBase}/daily`, await makeFlv({ seconds: 12, gopFrames: 60, size: '256x144' }), join(dir, 'today.flv'));
    const seen: Observation[] = [];
    const deadline = Date.now() + 40_000;
    while (Date.now() < deadline) {
      const observation = await observe();
      if (observation && observation.state !== 'ended') seen.push(observation);
      if (observation?.state === 'live' && observation.playlist === 200 && seen.filter((entry) => entry.state === 'live').length >= 5) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await today.stop();
    const live = seen.filter((entry) => entry.state === 'live');
    expect(live.length, JSON.stringify(seen.slice(0, 5))).toBeGreaterThanOrEqual(5);
    const story = seen.map((entry) => `${entry.state}[${entry.statusRenditions}] ${entry.playlist}[${entry.playlistRenditions}]`).join('\n');
    for (const entry of live) {
      expect(entry.playlist, story).toBe(200);
      expect(entry.playlistRenditions, story).toEqual(['audio', 'source']);
      expect(entry.statusRenditions).toEqual(['audio', 'source']);
    }
    // Before it is live, no playlist at all: yesterday's is not handed out for today's.
    for (const entry of seen.filter((observation) => observation.state === 'starting')) expect(entry.playlist, story).toBe(404);
  });
});
