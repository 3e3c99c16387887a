/**
 * The player page with `?player=shaka`: Shaka Player (served by the edge from npm) plays a live
 * stream from `wrangler dev` in Chromium, with the page's stats line and error display.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseM3u8 } from '../helpers/m3u8.ts';
import { eventually } from '../helpers/network.ts';
import { startTestPlatform, type Platform } from '../helpers/platform.ts';
import { openPlayerPage, watchPlayback } from '../helpers/players.ts';
import { publishTestPattern, type TestPublisher } from '../helpers/publisher.ts';

const PUBLISH_SECONDS = 90;
const WATCH_SECONDS = 20;

describe('the player page with Shaka Player', () => {
  let platform: Platform | undefined;
  let publisher: TestPublisher | undefined;
  let edgeUrl: string;

  beforeAll(async () => {
    platform = await startTestPlatform('e2e-player-page-shaka', { edge: 'wrangler', dirPrefix: 'e2e-shaka-', ingest: {} });
    edgeUrl = platform.edgeUrl;
    publisher = publishTestPattern(platform.publishUrl('shaka'), PUBLISH_SECONDS);
    await eventually('two segments listed', 30_000, async () => {
      const response = await fetch(new URL('/live/shaka/source/index.m3u8', edgeUrl), { signal: AbortSignal.timeout(10_000) });
      return response.ok && parseM3u8(await response.text()).segments.length >= 2 ? true : undefined;
    });
  });

  afterAll(async () => {
    await publisher?.stop();
    await platform?.stop();
  });

  it('plays a live stream with ?player=shaka: no error event, the playhead advancing, the stats line and quality menu filled', async () => {
    const page = await openPlayerPage(`${edgeUrl}/watch/shaka?player=shaka`);
    try {
      const report = await watchPlayback(page, WATCH_SECONDS);
      const context = `HTTP errors: ${report.httpErrors.join(', ') || 'none'}; page errors: ${report.pageErrors.join('; ') || 'none'}`;
      expect(await page.evaluate<string>('window.playerState.player')).toBe('shaka');
      expect(await page.evaluate<boolean>('window.hls === undefined && window.shakaPlayer !== undefined')).toBe(true);
      expect(report.errors, context).toEqual([]);
      expect(report.fatal, context).toBeNull();
      expect(report.pageErrors).toEqual([]);
      expect(report.jumpsBack).toEqual([]);
      // Most of the watch played (Shaka settles its live edge in the first seconds).
      expect(report.playedSeconds, context).toBeGreaterThan(WATCH_SECONDS * 0.6);
      expect(report.segmentsFetchedWhilePlaying).toBeGreaterThanOrEqual(WATCH_SECONDS / 2 / 2);
      // "low latency": Shaka takes the playlist's parts (its lowLatencyMode is on by default).
      expect(await page.text('#stats')).toMatch(/^\d+p \(auto\) · buffer \d+\.\d s · \d+\.\d s behind live( · low latency)?$/);
      expect(await page.text('#status')).toMatch(/^Playing · watched \d+\.\d s$/);
      expect(await page.evaluate<boolean>('document.getElementById("error").hidden')).toBe(true);
      const labels = await page.chooseQuality('360p');
      expect(labels.slice(1)).toEqual(expect.arrayContaining([expect.stringMatching(/^360p · \d+ kb\/s$/)]));
    } finally {
      await page.close();
    }
  });

  it('plays the same stream as DASH with ?format=dash&player=shaka: no error event, the playhead advancing', async () => {
    const page = await openPlayerPage(`${edgeUrl}/watch/shaka?format=dash&player=shaka`);
    try {
      const report = await watchPlayback(page, 10);
      const context = `HTTP errors: ${report.httpErrors.join(', ') || 'none'}; page errors: ${report.pageErrors.join('; ') || 'none'}`;
      expect(await page.evaluate<string>('window.playerState.format')).toBe('dash');
      expect(report.errors, context).toEqual([]);
      expect(report.fatal, context).toBeNull();
      expect(report.pageErrors).toEqual([]);
      expect(report.playedSeconds, context).toBeGreaterThan(10 * 0.6);
      expect(await page.text('#stats')).toMatch(/^\d+p \(auto\) · buffer \d+\.\d s · \d+\.\d s behind live/);
    } finally {
      await page.close();
    }
  });

  it('waits for a stream that is not live yet, saying so, with no failure shown', async () => {
    const page = await openPlayerPage(`${edgeUrl}/watch/nobody?player=shaka`);
    try {
      await eventually('the page to say the stream is not live yet', 15_000, async () => ((await page.text('#status')).includes('not live yet; retrying') ? true : undefined));
      expect((await page.state()).fatal).toBeNull();
      expect(await page.evaluate<boolean>('document.getElementById("error").hidden')).toBe(true);
      expect(await page.text('#stream-state')).toBe('Not live yet.');
    } finally {
      await page.close();
    }
  });
});
