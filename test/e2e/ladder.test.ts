/**
 * The adaptive ladder end to end: real publishers (files sent in real time, so a 1080p source
 * costs nothing to make), the sidecar's one ffmpeg per stream, the edge, hls.js. Sources with
 * keyframes every 2 s pass through; a 6 s GOP and an irregular GOP get an encoded top rendition.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatBytes } from '../../ingest/package/bytes.ts';
import { segmentPresentationStart } from '../helpers/cmaf.ts';
import { probeDecode } from '../helpers/ffprobe.ts';
import { probePackets } from '../helpers/ffprobe-packets.ts';
import { encoderFfmpegChildren } from '../helpers/encoder-processes.ts';
import { isGap, parseM3u8 } from '../helpers/m3u8.ts';
import { makeFlv } from '../helpers/media-fixtures.ts';
import { eventually } from '../helpers/network.ts';
import { startTestPlatform, type Platform } from '../helpers/platform.ts';
import { PNG } from 'pngjs';
import { openPlayerPage, playInChromium } from '../helpers/players.ts';
import { watchPlaylists, type PlaylistChecker } from '../helpers/playlist-checker.ts';
import { publishFile, type TestPublisher } from '../helpers/publisher.ts';

/**
 * A viewer picks 360p in the player page's quality menu: the player switches to it, the page
 * says so, and what is on screen is a picture (not a black or frozen box).
 */
async function switchRenditionFromTheMenu(pageUrl: string): Promise<void> {
  const player = await openPlayerPage(pageUrl);
  try {
    await eventually('the player to start', 30_000, async () => ((await player.state()).playing ? true : undefined));
    const labels = await player.chooseQuality('360p');
    expect(labels.map((label) => label.split(' ')[0])).toEqual(['Auto', '1080p', '720p', '480p', '360p']);
    await eventually('the 360p rendition on screen', 20_000, async () => ((await player.evaluate<number>('window.playerState.height')) === 360 ? true : undefined));
    // The latency shows once hls.js plays a 360p fragment it has a program date time for.
    const statsLine = /^360p · buffer \d+\.\d s · \d+\.\d s behind live( · low latency)?$/;
    await eventually('the stats line to show the 360p rendition and its latency', 10_000, async () => (statsLine.test(await player.text('#stats')) ? true : undefined));
    expect(await player.text('#stats')).toMatch(/^360p · buffer /);
    const screenshot = PNG.sync.read(await player.screenshotVideo());
    expect(screenshot.width).toBeGreaterThan(300);
    // testsrc2 is colour bars and moving shapes: a real frame has many distinct pixel values.
    const samples = new Set<number>();
    for (let i = 0; i < screenshot.data.length; i += 4 * 97) samples.add((screenshot.data[i]! << 16) | (screenshot.data[i + 1]! << 8) | screenshot.data[i + 2]!);
    expect(samples.size, 'the video element shows a picture').toBeGreaterThan(50);
    expect((await player.state()).fatal).toBeNull();
  } finally {
    await player.close();
  }
}

describe('adaptive ladder from real sources', () => {
  let dir: string;
  let edgeUrl: string;
  let rtmpBase: string;
  let platform: Platform | undefined;
  const publishers: TestPublisher[] = [];
  const checkers: PlaylistChecker[] = [];
  const lines: string[] = [];

  const fetchText = async (path: string) => {
    const response = await fetch(new URL(path, edgeUrl), { signal: AbortSignal.timeout(5000) });
    if (!response.ok) throw new Error(`${path}: ${response.status}`);
    return response.text();
  };
  const fetchBytes = async (path: string) => new Uint8Array(await (await fetch(new URL(path, edgeUrl), { signal: AbortSignal.timeout(5000) })).arrayBuffer());
  const ended = (stream: string, rendition: string) =>
    eventually(`${stream}/${rendition} to end`, 60_000, async () => {
      const playlist = parseM3u8(await fetchText(`/live/${stream}/${rendition}/index.m3u8`).catch(() => ''));
      return playlist.endList ? playlist : undefined;
    });
  const publish = (stream: string, flv: Buffer) => {
    const publisher = publishFile(`${rtmpBase}/${stream}`, flv, join(dir, `${stream}.flv`));
    publishers.push(publisher);
    return publisher;
  };

  beforeAll(async () => {
    // superfast rather than the default veryfast: the same kind of stream (B-frames, forced
    // keyframes) at a cost this shared 2-core machine keeps up with while Chromium plays.
    platform = await startTestPlatform('e2e-ladder', { edge: 'wrangler', lines, ingest: { reconnectWindow: 0, args: ['--playlist-window', '30', '--x264-preset', 'superfast'] } });
    ({ dir, edgeUrl, rtmpUrl: rtmpBase } = platform);
  });

  afterAll(async () => {
    await Promise.all(checkers.map((checker) => checker.stop()));
    await Promise.all(publishers.map((publisher) => publisher.stop()));
    await platform?.stop();
  });

  it('turns a 1080p source into passthrough 1080p + 720p/480p/360p + audio with aligned segments; hls.js and dash.js play it and switch to 360p from the menu', async () => {
    const flv = await makeFlv({ seconds: 46, gopFrames: 60, size: '1920x1080', preset: 'superfast' });
    const publisher = publish('tall', flv);

    const multivariant = await eventually('a multivariant playlist with every rendition', 40_000, async () => {
      const manifest = parseM3u8(await fetchText('/live/tall.m3u8').catch(() => ''));
      return manifest.playlists?.length === 4 ? manifest : undefined;
    });
    const variants = multivariant.playlists!;
    expect(variants.map((variant) => `${variant.attributes.RESOLUTION?.width}x${variant.attributes.RESOLUTION?.height}`)).toEqual([
      '1920x1080', '1280x720', '854x480', '640x360',
    ]);
    expect(variants.map((variant) => variant.uri)).toEqual(['tall/source/index.m3u8', 'tall/720p/index.m3u8', 'tall/480p/index.m3u8', 'tall/360p/index.m3u8']);
    for (const variant of variants) {
      expect(variant.attributes.CODECS).toMatch(/^avc1\.[0-9a-f]{6},mp4a\.40\.2$/);
      expect(variant.attributes.AUDIO).toBe('audio');
    }
    // Encoded rungs ask less than the source, tallest first.
    const bandwidths = variants.slice(1).map((variant) => variant.attributes.BANDWIDTH!);
    expect([...bandwidths].sort((a, b) => b - a)).toEqual(bandwidths);
    expect(Object.keys(multivariant.mediaGroups!.AUDIO!.audio!)).toEqual(['audio']);

    // ffmpeg runs only to encode the rungs: no output of its copies the source (the sidecar
    // remuxes it, and the AAC-LC audio, in-process), as its command line in the process table says.
    const encoders = encoderFfmpegChildren(platform!.ingest!.pid!);
    expect(encoders).toHaveLength(1);
    const args = readFileSync(`/proc/${encoders[0]}/cmdline`, 'utf8').split('\0');
    const codecs = args.flatMap((arg, i) => (arg.startsWith('-c:') || arg.startsWith('-codec') ? [`${arg} ${args[i + 1]}`] : []));
    expect(codecs).toEqual(['-c:v libx264', '-c:v libx264', '-c:v libx264']);

    // Both kinds of player, on the same segments.
    const hls = await playInChromium(`${edgeUrl}/watch/tall`, 4);
    expect(hls.fatal).toBeNull();
    await switchRenditionFromTheMenu(`${edgeUrl}/watch/tall`);
    const dash = await playInChromium(`${edgeUrl}/watch/tall?format=dash`, 4);
    expect(dash.fatal).toBeNull();
    await switchRenditionFromTheMenu(`${edgeUrl}/watch/tall?format=dash`);

    await publisher.exited;
    const renditions = ['source', '720p', '480p', '360p', 'audio'];
    const playlists = await Promise.all(renditions.map((rendition) => ended('tall', rendition)));
    // Ended playlists list everything each rendition made: at the very end one rendition may
    // have cut one more (short) segment than another; every segment before it lines up.
    const allCounts = playlists.map((playlist) => playlist.segments.length);
    expect(Math.max(...allCounts) - Math.min(...allCounts)).toBeLessThanOrEqual(1);
    const counts = [Math.min(...allCounts)];
    expect(counts[0]).toBeGreaterThanOrEqual(7);
    // Every video rendition's segment N starts on a keyframe presented at the same instant (as a
    // player computes it: tfdt + composition offset), and decodes.
    for (const index of [1, Math.floor(counts[0]! / 2), counts[0]! - 2]) {
      const starts = await Promise.all(
        renditions.slice(0, 4).map(async (rendition, position) => {
          const segment = playlists[position]!.segments[index]!;
          const init = await fetchBytes(`/live/tall/${rendition}/${segment.map!.uri}`);
          const media = await fetchBytes(`/live/tall/${rendition}/${segment.uri}`);
          const decoded = await probeDecode(concatBytes([init, media]));
          expect(decoded.decodedFrames).toBeGreaterThan(50);
          return segmentPresentationStart(init, media).toFixed(3);
        }),
      );
      expect(new Set(starts).size, `segment ${index} starts: ${starts.join(', ')}`).toBe(1);
    }

    // The source rendition is the publisher's H.264 byte for byte: every frame listed is the
    // file's, in order, from a keyframe on, none missing between (payload hashes, as ffprobe reads them).
    const source = playlists[0]!;
    const sourceBytes = concatBytes([
      await fetchBytes(`/live/tall/source/${source.segments[0]!.map!.uri}`),
      ...(await Promise.all(source.segments.filter((segment) => !isGap(segment)).map((segment) => fetchBytes(`/live/tall/source/${segment.uri}`)))),
    ]);
    const [published, listed] = await Promise.all([probePackets(flv, 'video'), probePackets(sourceBytes, 'video')]);
    const first = published.findIndex((packet) => packet.hash === listed[0]!.hash);
    expect(first).toBeGreaterThanOrEqual(0);
    expect(published[first]!.keyframe).toBe(true);
    expect(listed.map((packet) => packet.hash)).toEqual(published.slice(first, first + listed.length).map((packet) => packet.hash));
    expect(listed.length).toBeGreaterThan(published.length * 0.8);
  });

  it('encodes the top rendition of a 6 s-GOP source: 2 s segments, none past the target duration', async () => {
    const flv = await makeFlv({ seconds: 12, gopFrames: 180, forceKeyframes: 'expr:eq(n,0)+gte(t-prev_forced_t,6)' });
    const publisher = publish('longgop', flv);
    await publisher.exited;
    const playlist = await ended('longgop', 'source');
    expect(playlist.targetDuration).toBe(2);
    const durations = playlist.segments.map((segment) => segment.duration);
    expect(durations.slice(0, -1).every((duration) => Math.abs(duration - 2) < 0.05), durations.join(', ')).toBe(true);
    expect(playlist.discontinuityStarts).toEqual([]);
    expect(lines.some((line) => line.includes('longgop') && line.includes('the top rendition is encoded'))).toBe(true);
  });

  it('switches a passed-through source with an irregular GOP to an encoded top once a keyframe is overdue, losing no listed object', async () => {
    // Keyframes 1 s apart at first (passthrough fits), then a 3.5 s gap, then irregular.
    const flv = await makeFlv({ seconds: 14, gopFrames: 1000, forceKeyframes: '0,1,2,5.5,6,8,8.5,12' });
    const base = `${edgeUrl}/live/irregular`;
    const checker = watchPlaylists([`${base}/source/index.m3u8`, `${base}/audio/index.m3u8`]);
    checkers.push(checker);
    const publisher = publish('irregular', flv);
    await publisher.exited;
    const playlist = await ended('irregular', 'source');
    await checker.stop();
    expect(checker.missing).toEqual([]);
    expect(playlist.targetDuration).toBe(2);
    for (const segment of playlist.segments) expect(Math.round(segment.duration)).toBeLessThanOrEqual(2);
    expect(playlist.discontinuityStarts.length).toBe(1);
    expect(lines.some((line) => line.includes('without a keyframe') && line.includes('encoding the top rendition from now on'))).toBe(true);
    for (const segment of playlist.segments.filter((listed) => !isGap(listed))) {
      const bytes = concatBytes([await fetchBytes(`/live/irregular/source/${segment.map!.uri}`), await fetchBytes(`/live/irregular/source/${segment.uri}`)]);
      expect((await probeDecode(bytes)).decodedFrames).toBeGreaterThan(0);
    }
  });
});
