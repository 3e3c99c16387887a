/**
 * A stream with nothing to encode (`--ladder none`, an H.264 + AAC-LC source) is packaged by the
 * sidecar itself: no ffmpeg runs for it, and players play it. A source whose audio the sidecar
 * cannot pass (MP3) still gets its ffmpeg.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatBytes } from '../../ingest/package/bytes.ts';
import { probeDecode } from '../helpers/ffprobe.ts';
import { probePackets, type ProbedPacket } from '../helpers/ffprobe-packets.ts';
import { readTags } from '../helpers/flv-synth.ts';
import { publishTagsOverRtmp, type RawRtmpPublisher } from '../helpers/raw-rtmp-publisher.ts';
import { parseM3u8 } from '../helpers/m3u8.ts';
import { makeFlv } from '../helpers/media-fixtures.ts';
import { eventually } from '../helpers/network.ts';
import { startTestPlatform, type Platform } from '../helpers/platform.ts';
import { playInChromium } from '../helpers/players.ts';
import { encoderFfmpegChildren } from '../helpers/encoder-processes.ts';
import { publishFile, type TestPublisher } from '../helpers/publisher.ts';

/** The sidecar's encoder ffmpegs (thumbnail ffmpegs left out). */
const ffmpegChildren = encoderFfmpegChildren;

describe('passthrough remuxed in the sidecar (no ffmpeg)', () => {
  let dir: string;
  let edgeUrl: string;
  let rtmpBase: string;
  let platform: Platform | undefined;
  const publishers: TestPublisher[] = [];
  const rawPublishers: RawRtmpPublisher[] = [];
  const lines: string[] = [];

  const text = async (path: string) => {
    const response = await fetch(new URL(path, edgeUrl), { signal: AbortSignal.timeout(5000) });
    return response.ok ? response.text() : undefined;
  };
  const bytes = async (path: string) => new Uint8Array(await (await fetch(new URL(path, edgeUrl))).arrayBuffer());
  const publish = (stream: string, flv: Buffer) => publishers.push(publishFile(`${rtmpBase}/${stream}`, flv, join(dir, `${stream}.flv`)));
  const mediaPlaylist = (stream: string, rendition: string, segments: number) =>
    eventually(`${segments} segments of ${stream}/${rendition}`, 40_000, async () => {
      const body = await text(`/live/${stream}/${rendition}/index.m3u8`);
      const playlist = body ? parseM3u8(body) : undefined;
      return playlist && playlist.segments.length >= segments ? playlist : undefined;
    });
  /** A rendition's init segment and its listed segments, as one playable byte stream. */
  const listedBytes = async (stream: string, rendition: string, playlist: ReturnType<typeof parseM3u8>) => {
    const base = `/live/${stream}/${rendition}/`;
    return concatBytes([await bytes(base + playlist.segments[0]!.map!.uri), ...(await Promise.all(playlist.segments.map((segment) => bytes(base + segment.uri))))]);
  };
  const renditionBytes = async (stream: string, rendition: string) => listedBytes(stream, rendition, await mediaPlaylist(stream, rendition, 2));
  /** A rendition's playlist once the stream has ended (the publisher left; no reconnect window). */
  const endedPlaylist = (stream: string, rendition: string) =>
    eventually(`${stream}/${rendition} ended`, 30_000, async () => {
      const body = await text(`/live/${stream}/${rendition}/index.m3u8`);
      const parsed = body ? parseM3u8(body) : undefined;
      return parsed?.endList ? parsed : undefined;
    });
  /** The log lines saying how each of a stream's runs started (remuxed, or with an encoder). */
  const runStarts = (stream: string) => lines.filter((line) => line.includes(stream) && /remux started|encoder started/.test(line));

  beforeAll(async () => {
    platform = await startTestPlatform('e2e-remux', { edge: 'node', lines, ingest: { reconnectWindow: 0, args: ['--ladder', 'none'] } });
    ({ dir, edgeUrl, rtmpUrl: rtmpBase } = platform);
  });

  afterAll(async () => {
    await Promise.all(publishers.map((publisher) => publisher.stop()));
    for (const publisher of rawPublishers) publisher.stop();
    await platform?.stop();
  });

  it('plays a --ladder none stream in hls.js, decodes with ffprobe, and runs no ffmpeg for it', async () => {
    publish('bframes', await makeFlv({ seconds: 40, gopFrames: 60, bFrames: 2, audioSampleRate: 44100 }));
    await mediaPlaylist('bframes', 'source', 2);
    expect(lines.some((line) => line.includes('remux started (no ffmpeg)'))).toBe(true);
    expect(ffmpegChildren(platform!.ingest!.pid!)).toEqual([]);

    const playback = await playInChromium(`${edgeUrl}/watch/bframes`, 4);
    expect(playback.fatal).toBeNull();
    expect(playback.playedSeconds).toBeGreaterThanOrEqual(4);
    expect(playback.pageErrors).toEqual([]);

    const video = await probeDecode(await renditionBytes('bframes', 'source'));
    expect(video).toMatchObject({ codecType: 'video', codecName: 'h264' });
    expect(video.decodedFrames).toBeGreaterThanOrEqual(100);
    const audio = await probeDecode(await renditionBytes('bframes', 'audio'));
    expect(audio).toMatchObject({ codecType: 'audio', codecName: 'aac' });
    const multivariant = parseM3u8((await text('/live/bframes/index.m3u8'))!);
    expect(multivariant.playlists![0]!.attributes.CODECS).toMatch(/^avc1\.[0-9a-f]{6},mp4a\.40\.2$/);
    // Still none, after all of that.
    expect(ffmpegChildren(platform!.ingest!.pid!)).toEqual([]);
  });

  it('passes through a publisher slower than real time at its start (its GOP unknown when the probe\'s time ran out), with no ffmpeg, and says so', async () => {
    const flv = await makeFlv({ seconds: 10, gopFrames: 60, audioSampleRate: 44100 });
    // The first 1.6 s of media over 6 s (a starved publisher: the probe's 5 s run out with ~1.3 s
    // of media and one keyframe), then real time.
    const atMs = (timestamp: number) => (timestamp < 1600 ? timestamp * 3.75 : 6000 + (timestamp - 1600));
    const publisher = publishTagsOverRtmp(`${rtmpBase}/slowstart`, readTags(flv).map((tag) => ({ tag, atMs: atMs(tag.timestamp) })));
    rawPublishers.push(publisher);
    await mediaPlaylist('slowstart', 'source', 2);
    expect(runStarts('slowstart'), 'one run, remuxed').toEqual([expect.stringContaining('remux started (no ffmpeg)')]);
    expect(lines.some((line) => line.includes('slowstart') && line.includes('keyframe interval is not known yet'))).toBe(true);
    expect(ffmpegChildren(platform!.ingest!.pid!)).toEqual([]);
    await publisher.done;
    const playlist = await endedPlaylist('slowstart', 'source');
    // Every frame published is listed, on one timeline (2 s keyframes: nothing came overdue).
    expect(playlist.discontinuityStarts ?? []).toEqual([]);
    const video = await probePackets(await listedBytes('slowstart', 'source', playlist), 'video');
    expect(video.map((packet) => packet.hash)).toEqual((await probePackets(flv, 'video')).map((packet) => packet.hash));
  });

  it('waits for a publisher whose frames begin seconds after it published (as under load), instead of judging it on nothing', async () => {
    const flv = await makeFlv({ seconds: 6, gopFrames: 60, audioSampleRate: 44100 });
    const publisher = publishTagsOverRtmp(`${rtmpBase}/latestart`, readTags(flv).map((tag) => ({ tag, atMs: 7000 + tag.timestamp })));
    rawPublishers.push(publisher);
    await mediaPlaylist('latestart', 'source', 2);
    const ofStream = lines.filter((line) => line.includes('latestart'));
    expect(ofStream.filter((line) => /cannot be read|disconnecting/.test(line))).toEqual([]);
    expect(runStarts('latestart')).toEqual([expect.stringContaining('remux started (no ffmpeg)')]);
    expect((await mediaPlaylist('latestart', 'audio', 2)).segments.length).toBeGreaterThanOrEqual(2);
  });

  it('gives a source with MP3 audio its ffmpeg (the audio is encoded), and the passthrough stream still has none', async () => {
    publish('mp3', await makeFlv({ seconds: 40, gopFrames: 60, audioCodec: 'libmp3lame', audioSampleRate: 44100 }));
    await mediaPlaylist('mp3', 'audio', 2);
    expect(lines.some((line) => line.includes('encoder started (ffmpeg: MP3 audio is not AAC)'))).toBe(true);
    expect(ffmpegChildren(platform!.ingest!.pid!)).toHaveLength(1);
    const audio = await probeDecode(await renditionBytes('mp3', 'audio'));
    expect(audio).toMatchObject({ codecType: 'audio', codecName: 'aac' });
  });

  /**
   * Publishes `flv` over RTMP with every timestamp mapped (at the media's own pace), waits for the
   * stream to end (the publisher leaves; no reconnect window), and returns the source rendition's
   * and the audio's packets as the ended playlists list them, beside the published ones.
   */
  const publishRetimed = async (stream: string, flv: Buffer, map: (timestamp: number) => number) => {
    const tags = readTags(flv);
    const publisher = publishTagsOverRtmp(`${rtmpBase}/${stream}`, tags.map((tag) => ({ tag: { ...tag, timestamp: map(tag.timestamp) >>> 0 }, atMs: tag.timestamp })));
    rawPublishers.push(publisher);
    await publisher.done;
    const listed = async (rendition: string) => {
      const playlist = await endedPlaylist(stream, rendition);
      expect(playlist.discontinuityStarts ?? [], `${rendition}: one timeline, no discontinuity`).toEqual([]);
      return listedBytes(stream, rendition, playlist);
    };
    return {
      video: await probePackets(await listed('source'), 'video'),
      audio: await probePackets(await listed('audio'), 'audio'),
      publishedVideo: await probePackets(flv, 'video'),
      publishedAudio: await probePackets(flv, 'audio'),
    };
  };
  /** Every published frame is in the listed segments, in order, byte for byte, on decode times that only move forward by about a frame. */
  const expectWholeAndSteady = (what: string, listed: ProbedPacket[], published: ProbedPacket[], maxStepMs: number) => {
    expect(listed.map((packet) => packet.hash), `${what}: the frames listed are the frames published`).toEqual(published.map((packet) => packet.hash));
    const steps = listed.slice(1).map((packet, index) => packet.dts - listed[index]!.dts);
    expect(Math.min(...steps), `${what}: decode times only move forward`).toBeGreaterThan(0);
    expect(Math.max(...steps), `${what}: no jump in the timeline`).toBeLessThan(maxStepMs);
  };

  it('carries a publisher whose 32-bit RTMP timestamps wrap: said in the log, every frame listed on one steady timeline', async () => {
    const flv = await makeFlv({ seconds: 14, gopFrames: 60 });
    // The wrap comes 5 s in: from 4294962.296 s to 0.
    const packets = await publishRetimed('wrap', flv, (timestamp) => timestamp + 2 ** 32 - 5000);
    expect(lines.some((line) => line.includes("32-bit timestamp wrapped") && line.includes('the timeline continues across it'))).toBe(true);
    expectWholeAndSteady('video', packets.video, packets.publishedVideo, 100);
    expectWholeAndSteady('audio', packets.audio, packets.publishedAudio, 100);
    expect(packets.video.at(-1)!.dts - packets.video[0]!.dts).toBeGreaterThan(13_000);
  });

  it('carries a publisher whose clock jumps back: said in the log, every frame listed on one steady timeline', async () => {
    const flv = await makeFlv({ seconds: 14, gopFrames: 60 });
    // At 6 s the publisher's clock goes back 4 s (an encoder restarted its clock, a bad NTP step).
    const packets = await publishRetimed('jumpback', flv, (timestamp) => (timestamp >= 6000 ? timestamp - 4000 : timestamp));
    expect(lines.some((line) => line.includes('timestamps jumped back') && line.includes('the timeline continues from'))).toBe(true);
    expectWholeAndSteady('video', packets.video, packets.publishedVideo, 100);
    expectWholeAndSteady('audio', packets.audio, packets.publishedAudio, 100);
    expect(packets.video.at(-1)!.dts - packets.video[0]!.dts).toBeGreaterThan(13_000);
  });
});
