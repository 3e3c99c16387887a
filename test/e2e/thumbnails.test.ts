/**
 * Thumbnails and the pages people use, end to end: the test pattern published over RTMP; within
 * seconds the edge serves `/live/ID/thumbnail.jpg` (and `.webp`), pictures ffprobe decodes at the
 * stream's picture size (and at the stored width a `?width=` asks for), at most ten seconds old
 * and replaced as the stream goes on; the front page shows it in its grid and the player page as
 * its poster; the player page says what the stream is doing (live, reconnecting once the
 * publisher is killed, ended after the reconnect window) and then plays its recording (hls.js,
 * dash.js and Shaka Player), with the recording's MP4 link. All
 * checked in headless Chromium by what is on screen (screenshots in test-output/); once the
 * stream ended, the last thumbnail stays.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Locator, Page } from 'playwright-core';
import { PROJECT_ROOT } from '../../scripts/lib/local-platform.ts';
import { readJpegFacts } from '../../shared/thumbnail/jpeg-facts.ts';
import { probePicture } from '../helpers/ffprobe.ts';
import { eventually } from '../helpers/network.ts';
import { startTestPlatform, type Platform } from '../helpers/platform.ts';
import { closeChromium, launchChromium } from '../helpers/players.ts';
import { publishTestPattern, type TestPublisher } from '../helpers/publisher.ts';

const STREAM = 'colors';

/** How much a screenshot's pixels differ from their mean (luma variance): an empty or flat box is near 0. */
function lumaVariance(png: Buffer): number {
  const image = PNG.sync.read(png);
  const luma: number[] = [];
  for (let i = 0; i < image.data.length; i += 4) luma.push(0.299 * image.data[i]! + 0.587 * image.data[i + 1]! + 0.114 * image.data[i + 2]!);
  const mean = luma.reduce((sum, value) => sum + value, 0) / luma.length;
  return luma.reduce((sum, value) => sum + (value - mean) ** 2, 0) / luma.length;
}

/** The mean colour of a screenshot, 0-255 per channel. */
function meanColour(png: Buffer): { r: number; g: number; b: number } {
  const image = PNG.sync.read(png);
  const sum = { r: 0, g: 0, b: 0 };
  for (let i = 0; i < image.data.length; i += 4) {
    sum.r += image.data[i]!;
    sum.g += image.data[i + 1]!;
    sum.b += image.data[i + 2]!;
  }
  const pixels = image.data.length / 4;
  return { r: sum.r / pixels, g: sum.g / pixels, b: sum.b / pixels };
}

/** The hue family of the state badge, as a viewer sees it: red (live), amber (reconnecting), grey (ended), blue (recording). */
function colourName({ r, g, b }: { r: number; g: number; b: number }): string {
  if (Math.max(r, g, b) - Math.min(r, g, b) < 30) return 'grey';
  if (b > r && b > g) return 'blue';
  if (r > 150 && g > 100 && b < 90) return 'amber';
  if (r > 150 && g < 100 && b < 100) return 'red';
  return `rgb(${Math.round(r)}, ${Math.round(g)}, ${Math.round(b)})`;
}

function saveScreenshot(name: string, png: Buffer): void {
  mkdirSync(join(PROJECT_ROOT, 'test-output'), { recursive: true });
  writeFileSync(join(PROJECT_ROOT, 'test-output', name), png);
}

const RECONNECT_WINDOW_S = 5;

const RECORDING_LOOK = { badge: 'RECORDING', colour: 'blue', says: 'The stream has ended. This is its recording, from the start.' };

interface StreamLook {
  badge: string;
  colour: string;
  says: string;
}

/** The player page's state badge and sentence read what they should (text and colour on screen), screenshot saved. */
async function expectStreamState(page: Page, name: string, look: StreamLook, timeout: number): Promise<void> {
  const badge: Locator = page.locator('#stream-badge');
  await expect.poll(() => badge.textContent(), { timeout }).toBe(look.badge);
  expect(await page.locator('#stream-state').textContent()).toBe(look.says);
  expect(colourName(meanColour(await badge.screenshot()))).toBe(look.colour);
  saveScreenshot(`e2e-player-page-${name}.png`, await page.screenshot());
}

describe('thumbnails, end to end', () => {
  let platform: Platform | undefined;
  let publisher: TestPublisher | undefined;
  let browser: Browser | undefined;
  let publishedAt = 0;
  let killedAt = 0;
  const get = (path: string) => fetch(new URL(path, platform!.edgeUrl), { signal: AbortSignal.timeout(5_000) });

  beforeAll(async () => {
    platform = await startTestPlatform('e2e-thumbnails', {
      edge: 'node',
      // Retention `all`: every broadcast is recorded, so the ended stream has a recording to play.
      ingest: { open: true, reconnectWindow: RECONNECT_WINDOW_S, args: ['--retention', 'all', '--thumbnails', 'webp'] },
    });
    publishedAt = Date.now();
    publisher = publishTestPattern(platform.publishUrl(STREAM), 60, '640x360');
    browser = await launchChromium();
  }, 90_000);

  afterAll(async () => {
    if (browser) await closeChromium(browser);
    await publisher?.stop();
    await platform?.stop();
  });

  it('serves a JPEG (and a WebP) of the stream within seconds of publishing, at its picture size, with ?width= and caching by age', async () => {
    const jpeg = await eventually('the first thumbnail', 12_000, async () => {
      const response = await get(`/live/${STREAM}/thumbnail.jpg`);
      return response.status === 200 ? new Uint8Array(await response.arrayBuffer()) : undefined;
    });
    expect(Date.now() - publishedAt).toBeLessThan(12_500);
    expect(await probePicture(jpeg)).toEqual({ codec: 'mjpeg', width: 640, height: 360 });
    const response = await get(`/live/${STREAM}/thumbnail.jpg`);
    expect(response.headers.get('content-type')).toBe('image/jpeg');
    expect(response.headers.get('cache-control')).toMatch(/^public, max-age=([1-9]|10)$/);
    const etag = response.headers.get('etag')!;
    const revalidated = await fetch(new URL(`/live/${STREAM}/thumbnail.jpg`, platform!.edgeUrl), { headers: { 'if-none-match': etag } });
    // 304 unless the next thumbnail was stored in between (then it is another picture).
    if (revalidated.status === 200) expect(revalidated.headers.get('etag')).not.toBe(etag);
    else expect(revalidated.status).toBe(304);
    const small = new Uint8Array(await (await get(`/live/${STREAM}/thumbnail.jpg?width=300`)).arrayBuffer());
    expect(await probePicture(small)).toEqual({ codec: 'mjpeg', width: 320, height: 180 });
    const bad = await get(`/live/${STREAM}/thumbnail.jpg?width=5000`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: '"width" must be a whole number from 16 to 1920' });
    // The same pictures as WebP (Debian's ffmpeg has libwebp), sized, cached and refused alike.
    const webp = await get(`/live/${STREAM}/thumbnail.webp`);
    expect(webp.headers.get('content-type')).toBe('image/webp');
    expect(webp.headers.get('cache-control')).toMatch(/^public, max-age=([1-9]|10)$/);
    expect(await probePicture(new Uint8Array(await webp.arrayBuffer()))).toEqual({ codec: 'webp', width: 640, height: 360 });
    expect(await probePicture(new Uint8Array(await (await get(`/live/${STREAM}/thumbnail.webp?width=300`)).arrayBuffer()))).toEqual({ codec: 'webp', width: 320, height: 180 });
    expect((await get(`/live/${STREAM}/thumbnail.webp?width=5000`)).status).toBe(400);
  });

  it('is replaced as the stream goes on: never more than about ten seconds old', async () => {
    const first = readJpegFacts(new Uint8Array(await (await get(`/live/${STREAM}/thumbnail.jpg`)).arrayBuffer()))!.capturedAt!;
    const next = await eventually('the next thumbnail', 16_000, async () => {
      const capturedAt = readJpegFacts(new Uint8Array(await (await get(`/live/${STREAM}/thumbnail.jpg`)).arrayBuffer()))?.capturedAt;
      return capturedAt !== undefined && capturedAt > first ? capturedAt : undefined;
    });
    // One per interval (10 s), taken at the first keyframe after it (the test pattern has one every 2 s).
    expect(next - first).toBeGreaterThanOrEqual(10_000);
    expect(next - first).toBeLessThan(13_000);
  }, 30_000);

  it('the front page shows the stream in its grid with a picture on screen', async () => {
    const html = await (await get('/')).text();
    expect(html).toContain(`<img src="/live/${STREAM}/thumbnail.jpg?width=320"`);
    expect(html).toContain(`<meta property="og:image" content="${platform!.edgeUrl}/live/${STREAM}/thumbnail.jpg">`);
    const page = await browser!.newPage({ viewport: { width: 1000, height: 700 } });
    try {
      await page.goto(`${platform!.edgeUrl}/`);
      const image = page.locator(`#streams img[alt="${STREAM}"]`);
      await expect.poll(() => image.evaluate((element) => { const img = element as unknown as { complete: boolean; naturalWidth: number }; return img.complete && img.naturalWidth; }), { timeout: 10_000 }).toBe(320);
      const shot = await image.screenshot();
      saveScreenshot('e2e-thumbnails-grid.png', shot);
      // The test pattern's bars and noise: far from a flat grey tile (its variance is 0).
      expect(lumaVariance(shot)).toBeGreaterThan(500);
    } finally {
      await page.close();
    }
  });

  it('the player page shows the thumbnail as its poster before playback', async () => {
    const page = await browser!.newPage({ viewport: { width: 1000, height: 800 } });
    try {
      // Playback never starts (its playlist is held back): what shows is the poster.
      await page.route(/\.m3u8/, (route) => route.abort());
      await page.goto(`${platform!.edgeUrl}/watch/${STREAM}`);
      const video = page.locator('video');
      expect(await video.getAttribute('poster')).toBe(`/live/${STREAM}/thumbnail.jpg`);
      await expect.poll(async () => lumaVariance(await video.screenshot()), { timeout: 10_000 }).toBeGreaterThan(500);
      const shot = await video.screenshot();
      saveScreenshot('e2e-thumbnails-poster.png', shot);
      expect(await video.evaluate((element) => (element as unknown as { currentTime: number }).currentTime)).toBe(0);
    } finally {
      await page.close();
    }
  });

  it('the player page says what the stream is doing: live, reconnecting once the publisher is killed, ended after the window, then its recording', async () => {
    const page = await browser!.newPage({ viewport: { width: 1000, height: 800 } });
    try {
      await page.goto(`${platform!.edgeUrl}/watch/${STREAM}`);
      await expectStreamState(page, 'live', { badge: 'LIVE', colour: 'red', says: 'Live' }, 10_000);
      await expect.poll(() => page.evaluate('window.playerState.playing'), { timeout: 15_000 }).toBe(true);
      // The publisher vanishes (a crash, a dropped uplink): no goodbye on the RTMP connection.
      publisher!.process.kill('SIGKILL');
      killedAt = Date.now();
      await expectStreamState(page, 'reconnecting', { badge: 'RECONNECTING', colour: 'amber', says: "The streamer's connection dropped; waiting for it to come back…" }, 8_000);
      // The viewer pauses in the live stream's last seconds: the page leaves them there.
      await page.evaluate('document.querySelector("video").pause()');
      // The reconnect window (5 s) passes: the stream is over, and its recording is ready.
      await expectStreamState(page, 'ended', { badge: 'ENDED', colour: 'grey', says: 'The stream has ended. Its recording plays next, from the start.' }, 20_000);
      expect(Date.now() - killedAt).toBeGreaterThanOrEqual(RECONNECT_WINDOW_S * 1000);
      expect(await page.evaluate('window.playerState.onRecording === true')).toBe(false);
      // Played on to the live stream's end, the page moves to the recording, waiting for play.
      // The page may load the recording while this play() is pending (the live stream's last
      // seconds already buffered): that load interrupts it (AbortError), and is what is checked next.
      await page.evaluate('document.querySelector("video").play().catch((error) => { if (error.name !== "AbortError") throw error; })');
      await expectStreamState(page, 'recording-next', RECORDING_LOOK, 20_000);
      expect(await page.evaluate('window.playerState.onRecording')).toBe(true);
      expect(await page.locator('#status').textContent()).toBe('Press play to start.');
    } finally {
      await page.close();
    }
  }, 50_000);

  it('a player page opened after the end plays the recording (VOD) from its start, labelled, with its MP4 link; with dash.js and Shaka Player too', async () => {
    const status = (await (await get(`/live/${STREAM}/status.json`)).json()) as { state: string; recording?: { state: string; hls: string; dash: string; mp4: string } };
    expect(status.state).toBe('ended');
    expect(status.recording?.state).toBe('ready');
    const playsRecording = async (query: string, manifest: string) => {
      const page = await browser!.newPage({ viewport: { width: 640, height: 600 } });
      try {
        const manifests: string[] = [];
        page.on('request', (request) => {
          const path = new URL(request.url()).pathname;
          if (/\.(m3u8|mpd)$/.test(path)) manifests.push(path);
        });
        await page.goto(`${platform!.edgeUrl}/watch/${STREAM}${query}`);
        await expect.poll(() => page.evaluate('window.playerState.onRecording === true && window.playerState.playing && document.querySelector("video").currentTime > 1'), { timeout: 20_000 }).toBe(true);
        expect(await page.locator('#stream-badge').textContent()).toBe('RECORDING');
        expect(manifests[0], query).toBe(manifest);
        expect(manifests.filter((path) => path.startsWith('/live/')), query).toEqual([]);
        expect(await page.evaluate('window.playerState.fatal'), query).toBeNull();
      } finally {
        await page.close();
      }
    };
    // The other players, at the same time (the page offers them): dash.js on its MPD, Shaka Player on its HLS.
    const others = Promise.all([playsRecording('?format=dash', status.recording!.dash), playsRecording('?player=shaka', status.recording!.hls)]);
    // Awaited at the end; a failure of the page below must not leave this one unhandled.
    others.catch(() => {});
    const page = await browser!.newPage({ viewport: { width: 1000, height: 800 } });
    try {
      const playlists: string[] = [];
      page.on('request', (request) => {
        if (new URL(request.url()).pathname.endsWith('.m3u8')) playlists.push(new URL(request.url()).pathname);
      });
      await page.goto(`${platform!.edgeUrl}/watch/${STREAM}`);
      await expectStreamState(page, 'recording', RECORDING_LOOK, 10_000);
      await expect.poll(() => page.evaluate('window.playerState.playing && document.querySelector("video").currentTime > 1.5'), { timeout: 15_000 }).toBe(true);
      // The recording's playlists, never the dead live stream's.
      expect(playlists[0]).toBe(status.recording!.hls);
      expect(playlists.filter((path) => path.startsWith('/live/'))).toEqual([]);
      // A recording plays from its start: the playhead counts from 0, not from the live window.
      expect(await page.evaluate('document.querySelector("video").currentTime')).toBeLessThan(15);
      const shot = await page.locator('video').screenshot();
      expect(lumaVariance(shot)).toBeGreaterThan(500);
      saveScreenshot('e2e-player-page-recording-playing.png', await page.screenshot());
      const download = page.locator('#recording-download');
      expect(await download.isVisible()).toBe(true);
      expect(await download.getAttribute('href')).toBe(status.recording!.mp4);
      const mp4 = await fetch(new URL(status.recording!.mp4, platform!.edgeUrl), { method: 'HEAD' });
      expect(mp4.status).toBe(200);
      expect(mp4.headers.get('content-type')).toBe('video/mp4');
    } finally {
      await page.close();
    }
    await others;
  }, 40_000);

  it('keeps the last thumbnail once the stream ended, cached longer', async () => {
    await publisher!.stop();
    await eventually('the stream to end', 20_000, async () => {
      const status = (await (await get(`/live/${STREAM}/status.json`)).json()) as { state: string };
      return status.state === 'ended' ? true : undefined;
    });
    const response = await get(`/live/${STREAM}/thumbnail.jpg`);
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=60');
    expect(await probePicture(new Uint8Array(await response.arrayBuffer()))).toEqual({ codec: 'mjpeg', width: 640, height: 360 });
  }, 30_000);
});
