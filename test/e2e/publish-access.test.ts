/**
 * Who may publish, over real RTMP: a sidecar started in open mode (as `npm start` is, while no
 * stream exists) gets a signed stream configured while it runs. A keyless publisher using that
 * stream's public playback id must never get in: not while the stream reconnects, not once it
 * ended, and nothing it does makes the signed stream's media public.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamStore } from '../../ingest/streams/stream-store.ts';
import { eventually, within } from '../helpers/network.ts';
import { startTestPlatform, type Platform } from '../helpers/platform.ts';
import { publishTestPattern } from '../helpers/publisher.ts';

const RECONNECT_WINDOW_SECONDS = 8;

describe('publish access over RTMP: open mode never reaches a configured stream', () => {
  let dir: string;
  let edgeUrl: string;
  let rtmpBase: string;
  let streams: StreamStore;
  let platform: Platform | undefined;
  const lines: string[] = [];
  const ingestLines = () => lines.filter((line) => line.startsWith('[ingest]'));

  const status = async (id: string) => {
    const response = await fetch(`${edgeUrl}/live/${id}/status.json`, { signal: AbortSignal.timeout(5000) });
    return response.ok ? ((await response.json()) as { state: string; playback?: string; renditions: unknown[] }) : undefined;
  };

  /** Publishes for a moment; resolves with whether the sidecar accepted it (its log says so). */
  async function tryKeylessPublish(name: string): Promise<{ refusedLines: number; exitCode: number | null }> {
    const before = ingestLines().filter((line) => line.includes('publish refused')).length;
    const publisher = publishTestPattern(`${rtmpBase}/${name}`, 3);
    const exitCode = await within(`the keyless publisher of ${name} to end`, 20_000, publisher.exited);
    return { refusedLines: ingestLines().filter((line) => line.includes('publish refused')).length - before, exitCode };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-access-'));
    streams = new StreamStore(join(dir, 'streams.json'));
    platform = await startTestPlatform('e2e-publish-access', {
      edge: 'node',
      dir,
      lines,
      playbackSecret: randomBytes(16).toString('hex'),
      ingest: { open: true, streamsFile: streams.path, reconnectWindow: RECONNECT_WINDOW_SECONDS, args: ['--ladder', 'none', '--low-latency', 'off'] },
    });
    edgeUrl = platform.edgeUrl;
    rtmpBase = platform.rtmpUrl;
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('refuses a keyless publisher on a signed stream\'s id while it reconnects and after it ended, and leaves open mode', async () => {
    // Open mode: a name publishes (what the blog does).
    const open = publishTestPattern(`${rtmpBase}/opentest`, 3);
    await eventually('the open-mode stream to be live', 20_000, async () => ((await status('opentest'))?.renditions.length ? true : undefined));
    await open.exited;

    // A signed stream is configured while the sidecar runs (what `npm run streams -- add vip --signed` writes).
    const { stream, key } = streams.add('vip', new Date(), 'signed');
    const vip = publishTestPattern(`${rtmpBase}/${key}`, 4);
    await eventually('the signed stream to be live', 20_000, async () => ((await status(stream.playbackId))?.renditions.length ? true : undefined));
    expect(ingestLines().some((line) => line.includes('OPEN MODE ENDED'))).toBe(true);
    await vip.exited;
    await eventually('the signed stream to wait for its publisher', 10_000, async () => ((await status(stream.playbackId))?.state === 'reconnecting' ? true : undefined));

    // (a) While it reconnects: the stranger is refused, the stream still waits for its own key.
    const duringReconnect = await tryKeylessPublish(stream.playbackId);
    expect(duringReconnect.refusedLines).toBeGreaterThanOrEqual(1);
    expect(ingestLines().some((line) => line.includes('publisher reconnected'))).toBe(false);
    expect(await status(stream.playbackId)).toMatchObject({ state: 'reconnecting', playback: 'signed' });

    // (b) Once ended: still refused, the stream stays signed, its playlists need a token.
    await eventually('the signed stream to end', (RECONNECT_WINDOW_SECONDS + 10) * 1000, async () => ((await status(stream.playbackId))?.state === 'ended' ? true : undefined));
    const afterEnd = await tryKeylessPublish(stream.playbackId);
    expect(afterEnd.refusedLines).toBeGreaterThanOrEqual(1);
    expect(await status(stream.playbackId)).toMatchObject({ state: 'ended', playback: 'signed' });
    expect((await fetch(`${edgeUrl}/live/${stream.playbackId}/index.m3u8`)).status).toBe(401);

    // Open mode is over: any other keyless name is refused as well.
    const otherName = await tryKeylessPublish('opentest');
    expect(otherName.refusedLines).toBeGreaterThanOrEqual(1);
    // No stream key ever reaches a log line.
    expect(lines.join('\n')).not.toContain(key);
  });
});
