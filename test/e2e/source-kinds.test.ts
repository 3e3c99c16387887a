/**
 * Sources without audio or without video, as some encoders send (a silent camera, a radio
 * stream): the ladder leaves out what the source lacks, and players still play the stream.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatBytes } from '../../ingest/package/bytes.ts';
import { probeDecode } from '../helpers/ffprobe.ts';
import { parseM3u8 } from '../helpers/m3u8.ts';
import { makeFlv } from '../helpers/media-fixtures.ts';
import { eventually } from '../helpers/network.ts';
import { startTestPlatform, type Platform } from '../helpers/platform.ts';
import { playInChromium } from '../helpers/players.ts';
import { publishFile, type TestPublisher } from '../helpers/publisher.ts';

describe('sources without audio or without video', () => {
  let dir: string;
  let edgeUrl: string;
  let rtmpBase: string;
  let platform: Platform | undefined;
  const publishers: TestPublisher[] = [];
  const lines: string[] = [];

  const text = async (path: string) => {
    const response = await fetch(new URL(path, edgeUrl), { signal: AbortSignal.timeout(5000) });
    return response.ok ? response.text() : undefined;
  };
  const bytes = async (path: string) => new Uint8Array(await (await fetch(new URL(path, edgeUrl))).arrayBuffer());
  const publish = (stream: string, flv: Buffer) => publishers.push(publishFile(`${rtmpBase}/${stream}`, flv, join(dir, `${stream}.flv`)));
  const multivariant = (stream: string) =>
    eventually(`the ${stream} multivariant playlist`, 40_000, async () => {
      const body = await text(`/live/${stream}/index.m3u8`);
      return body ? parseM3u8(body) : undefined;
    });

  beforeAll(async () => {
    platform = await startTestPlatform('e2e-source-kinds', { edge: 'wrangler', lines, ingest: { reconnectWindow: 0 } });
    ({ dir, edgeUrl, rtmpUrl: rtmpBase } = platform);
    publish('silent', await makeFlv({ seconds: 30, gopFrames: 60, audio: false }));
    publish('radio', await makeFlv({ seconds: 30, gopFrames: 60, video: false }));
  });

  afterAll(async () => {
    await Promise.all(publishers.map((publisher) => publisher.stop()));
    await platform?.stop();
  });

  it('serves a video-only source as video variants without an audio group, and hls.js plays it', async () => {
    const manifest = await multivariant('silent');
    expect(manifest.playlists!.map((p) => p.attributes.CODECS)).toEqual([expect.stringMatching(/^avc1\.[0-9a-f]{6}$/)]);
    expect(manifest.playlists![0]!.attributes.AUDIO).toBeUndefined();
    expect(Object.keys(manifest.mediaGroups?.AUDIO ?? {})).toEqual([]);
    const playback = await playInChromium(`${edgeUrl}/watch/silent`, 3);
    expect(playback.fatal).toBeNull();
  });

  it('serves an audio-only source as an audio variant whose segments decode, and hls.js plays it', async () => {
    const manifest = await multivariant('radio');
    expect(manifest.playlists!.map((p) => [p.uri, p.attributes.CODECS, p.attributes.RESOLUTION])).toEqual([['audio/index.m3u8', 'mp4a.40.2', undefined]]);
    const media = parseM3u8((await text('/live/radio/audio/index.m3u8'))!);
    const decoded = await probeDecode(concatBytes([await bytes(`/live/radio/audio/${media.segments[0]!.map!.uri}`), await bytes(`/live/radio/audio/${media.segments[0]!.uri}`)]));
    expect(decoded).toMatchObject({ codecType: 'audio', codecName: 'aac' });
    const playback = await playInChromium(`${edgeUrl}/watch/radio`, 3);
    expect(playback.fatal).toBeNull();
  });
});
