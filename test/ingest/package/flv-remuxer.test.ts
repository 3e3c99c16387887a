import { describe, expect, it } from 'vitest';
import { UnsupportedAudioError } from '../../../ingest/media/aac-config.ts';
import { FLV_TAG_AUDIO, FLV_TAG_VIDEO } from '../../../ingest/media/flv-tag-reader.ts';
import { SourceChangedError } from '../../../ingest/package/flv-remuxer.ts';
import { probeDecode } from '../../helpers/ffprobe.ts';
import { probePackets, type ProbedPacket } from '../../helpers/ffprobe-packets.ts';
import { readTags, retime, writeFlv } from '../../helpers/flv-synth.ts';
import { makeFlv, type FlvOptions } from '../../helpers/media-fixtures.ts';
import { remuxFlv, type RemuxedTrack } from '../../helpers/remux.ts';

/** Source and output agree frame for frame: payload, keyframe flag, decode and presentation times. */
async function expectSameFrames(source: Uint8Array, output: RemuxedTrack, kind: 'video' | 'audio', timeShift = 0): Promise<void> {
  const [expected, actual] = await Promise.all([probePackets(source, kind), probePackets(output.bytes(), kind)]);
  expect(actual.length).toBe(expected.length);
  expect(actual.map((packet) => packet.hash)).toEqual(expected.map((packet) => packet.hash));
  expect(actual.map((packet) => packet.keyframe)).toEqual(expected.map((packet) => packet.keyframe));
  const times = (packets: ProbedPacket[], shift: number) => packets.map((packet) => [packet.dts - shift, packet.pts - shift]);
  if (kind === 'video') {
    expect(times(actual, 0)).toEqual(times(expected, timeShift));
  } else {
    // Audio is timed in samples (1024 a frame), FLV in whole milliseconds: within one.
    const drift = actual.map((packet, i) => Math.abs(packet.pts - (expected[i]!.pts - timeShift)));
    expect(Math.max(...drift)).toBeLessThanOrEqual(1);
  }
}

describe('in-process remux: the source frame for frame', () => {
  it.each<{ what: string; flv: FlvOptions; tracks: ('video' | 'audio')[]; sampleRate?: number }>([
    { what: 'H.264 with B-frames (-bf 2) and AAC 48 kHz', flv: { seconds: 5, gopFrames: 60, bFrames: 2 }, tracks: ['video', 'audio'], sampleRate: 48000 },
    { what: 'AAC at 44.1 kHz', flv: { seconds: 4, gopFrames: 60, audioSampleRate: 44100 }, tracks: ['video', 'audio'], sampleRate: 44100 },
    { what: 'a video-only source', flv: { seconds: 4, gopFrames: 60, audio: false }, tracks: ['video'] },
    { what: 'an audio-only source', flv: { seconds: 4, gopFrames: 60, video: false }, tracks: ['audio'], sampleRate: 48000 },
  ])('$what', async ({ flv: flvOptions, tracks, sampleRate }) => {
    const flv = await makeFlv(flvOptions);
    const result = remuxFlv(flv, { pieceSize: 4096 });
    expect(result.error).toBeUndefined();
    expect(result.notices).toEqual([]);
    expect(Object.keys(result).filter((key) => key === 'video' || key === 'audio').sort()).toEqual([...tracks].sort());
    for (const kind of tracks) {
      const track = result[kind]!;
      await expectSameFrames(flv, track, kind);
      const decoded = await probeDecode(track.bytes());
      expect(decoded.decodedFrames).toBe(track.segments.reduce((sum, segment) => sum + segment.chunks.reduce((n, chunk) => n + chunk.sampleCount, 0), 0));
    }
    if (sampleRate) expect(result.audio!.track).toMatchObject({ codec: 'mp4a.40.2', timescale: sampleRate, sampleRate });
    if (tracks.includes('video')) {
      expect(result.video!.track).toMatchObject({ width: 640, height: 360, timescale: 90_000 });
      // Each segment decodes alone with the init segment (starts on a keyframe).
      const second = result.video!.segments[1]!;
      const alone = await probeDecode(new Uint8Array([...result.video!.init, ...second.bytes]));
      expect(alone.decodedFrames).toBe(second.chunks.reduce((n, chunk) => n + chunk.sampleCount, 0));
    }
  });

  it('carries B-frames as positive composition offsets in version-0 truns (presentation = decode + offset, no edit list)', async () => {
    const flv = await makeFlv({ seconds: 2, gopFrames: 60, bFrames: 2, audio: false });
    const packets = await probePackets(remuxFlv(flv).video!.bytes(), 'video');
    expect(packets.some((packet) => packet.pts < packets[packets.indexOf(packet) - 1]?.pts!)).toBe(true); // reordered
    expect(packets.every((packet) => packet.pts >= packet.dts)).toBe(true);
  });

  it('continues across a 32-bit timestamp wrap with the same frames and times, and says so', async () => {
    const flv = await makeFlv({ seconds: 4, gopFrames: 60, bFrames: 2 });
    const wrapped = retime(flv, (timestamp) => timestamp + 2 ** 32 - 1500);
    const result = remuxFlv(wrapped);
    expect(result.error).toBeUndefined();
    expect(result.notices.join('\n')).toMatch(/32-bit timestamp wrapped/);
    await expectSameFrames(flv, result.video!, 'video');
    await expectSameFrames(flv, result.audio!, 'audio');
    expect(result.video!.segments.map((segment) => segment.startTime / 90_000)).toEqual([0, 2]);
  });

  it('keeps decode times going forward when the publisher clock jumps back, says so, and stays playable', async () => {
    const flv = await makeFlv({ seconds: 6, gopFrames: 60 });
    // From the third second on, the publisher's clock reads 2.5 s less.
    const jumped = retime(flv, (timestamp) => (timestamp >= 3000 ? timestamp - 2500 : timestamp));
    const result = remuxFlv(jumped);
    expect(result.error).toBeUndefined();
    expect(result.notices.join('\n')).toMatch(/timestamps jumped back 2\.\d{3} s/);
    for (const kind of ['video', 'audio'] as const) {
      const packets = await probePackets(result[kind]!.bytes(), kind);
      const source = await probePackets(flv, kind);
      expect(packets.map((packet) => packet.hash)).toEqual(source.map((packet) => packet.hash));
      for (let i = 1; i < packets.length; i++) expect(packets[i]!.dts).toBeGreaterThan(packets[i - 1]!.dts);
      // Nothing lost: the timeline is as long as the source's, give or take a frame at the join.
      expect(Math.abs(packets.at(-1)!.dts - source.at(-1)!.dts)).toBeLessThan(60);
      expect((await probeDecode(result[kind]!.bytes())).decodedFrames).toBe(packets.length);
    }
  });

  it('stops with a SourceChangedError when the H.264 configuration changes mid-run (a new run makes new init segments)', async () => {
    const [first, second] = await Promise.all([makeFlv({ seconds: 2, gopFrames: 60 }), makeFlv({ seconds: 2, gopFrames: 60, size: '320x240' })]);
    const joined = writeFlv([...readTags(first), ...readTags(second).map((tag) => ({ ...tag, timestamp: tag.timestamp + 2100 }))]);
    const result = remuxFlv(joined);
    expect(result.error).toBeInstanceOf(SourceChangedError);
    expect(result.error!.message).toMatch(/640x360 to 320x240/);
    // What came before the change is complete.
    expect(result.video!.segments.reduce((n, segment) => n + segment.chunks.reduce((m, chunk) => m + chunk.sampleCount, 0), 0)).toBe(60);
  });

  it('refuses MP3 audio (ffmpeg encodes it), and ignores a track it is not asked for', async () => {
    const flv = await makeFlv({ seconds: 1, gopFrames: 30, audioCodec: 'libmp3lame', audioSampleRate: 44100 });
    expect(remuxFlv(flv).error).toBeInstanceOf(UnsupportedAudioError);
    const videoOnly = remuxFlv(flv, { audio: false });
    expect(videoOnly.error).toBeUndefined();
    expect(videoOnly.video!.segments).toHaveLength(1);
    expect(readTags(flv).some((tag) => tag.type === FLV_TAG_AUDIO) && readTags(flv).some((tag) => tag.type === FLV_TAG_VIDEO)).toBe(true);
  });
});
