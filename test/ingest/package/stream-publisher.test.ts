import { parseM3u8 as parse } from '../../helpers/m3u8.ts';
import { beforeAll, describe, expect, it } from 'vitest';
import { StreamPublisher } from '../../../ingest/package/stream-publisher.ts';
import { DEFAULT_LADDER } from '../../../ingest/transcode/ladder.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import type { PutOptions } from '../../../shared/storage/object-store.ts';
import type { StreamStatus } from '../../../shared/stream-status.ts';
import { makeFlv, segmentTrack, transcodeToCmaf, type SegmentedTrack } from '../../helpers/media-fixtures.ts';

/** Checks, at every playlist write, that everything the playlist lists is already stored. */
class OrderCheckingStore extends MemoryObjectStore {
  readonly violations: string[] = [];
  readonly writes: string[] = [];

  override async put(key: string, body: Uint8Array | string, options: PutOptions): Promise<void> {
    this.writes.push(key);
    if (key.endsWith('.m3u8')) {
      const dir = key.slice(0, key.lastIndexOf('/') + 1);
      const manifest = parse(String(body));
      const listed = [
        ...(manifest.segments ?? []).flatMap((s) => [s.uri, s.map?.uri]),
        ...(manifest.playlists ?? []).map((p) => p.uri),
        ...Object.values(manifest.mediaGroups?.AUDIO ?? {}).flatMap((group) => Object.values(group).map((r) => r.uri)),
      ].filter((uri): uri is string => Boolean(uri));
      for (const uri of listed) if (!this.objects.has(dir + uri)) this.violations.push(`${key} lists ${uri} before it is stored`);
    }
    await super.put(key, body, options);
  }
}

describe('stream publisher', () => {
  let video: SegmentedTrack;
  let audio: SegmentedTrack;
  const store = new OrderCheckingStore();
  let clock = Date.parse('2026-11-24T12:00:00Z');

  beforeAll(async () => {
    const [v, a] = (await transcodeToCmaf(await makeFlv({ seconds: 7, gopFrames: 60 }))) as [Buffer, Buffer];
    video = segmentTrack(v);
    audio = segmentTrack(a);

    const publisher = new StreamPublisher({
      streamId: 'colors',
      session: 'abcdefgh12',
      renditions: DEFAULT_LADDER,
      store,
      targetSegmentDuration: 2,
      windowSegments: 3,
      now: () => clock,
      onError: (error) => {
        throw error;
      },
    });
    publisher.noteChunkReceived(0.333);
    void publisher.publishInit('source', video.init, video.track);
    void publisher.publishInit('audio', audio.init, audio.track);
    for (let i = 0; i < Math.max(video.segments.length, audio.segments.length); i++) {
      clock += 2000;
      if (video.segments[i]) void publisher.publishSegment('source', video.segments[i]!);
      if (audio.segments[i]) void publisher.publishSegment('audio', audio.segments[i]!);
    }
    await publisher.end();
  });

  it('never writes a playlist before everything it lists is stored', () => {
    expect(store.violations).toEqual([]);
    expect(store.writes.indexOf('streams/colors/index.m3u8')).toBeGreaterThan(store.writes.indexOf('streams/colors/audio/index.m3u8'));
  });

  it('slides a live window and ends every media playlist with EXT-X-ENDLIST', () => {
    const final = parse(store.text('streams/colors/source/index.m3u8')!);
    expect(final.endList).toBe(true);
    expect(final.segments.map((s) => s.uri)).toEqual(['abcdefgh12-1.m4s', 'abcdefgh12-2.m4s', 'abcdefgh12-3.m4s']);
    expect(final.mediaSequence).toBe(1);
    expect(parse(store.text('streams/colors/audio/index.m3u8')!).endList).toBe(true);
  });

  it('stamps program date time from the ingest clock, continuous with the durations', () => {
    const segments = parse(store.text('streams/colors/source/index.m3u8')!).segments;
    const anchor = Date.parse('2026-11-24T12:00:00Z') - 333;
    expect(segments[0]!.dateTimeObject!.getTime()).toBe(anchor + 2000);
    for (let i = 1; i < segments.length; i++) {
      expect(segments[i]!.dateTimeObject!.getTime() - segments[i - 1]!.dateTimeObject!.getTime()).toBe(segments[i - 1]!.duration * 1000);
    }
  });

  it('advertises measured bandwidth and real codecs in the multivariant playlist', () => {
    const manifest = parse(store.text('streams/colors/index.m3u8')!);
    const variant = manifest.playlists![0]!;
    expect(variant.attributes.CODECS).toBe(`${video.track.codec},mp4a.40.2`);
    const videoPeak = Math.max(...video.segments.slice(0, 1).map((s) => (s.bytes.length * 8) / 2));
    expect(variant.attributes.BANDWIDTH).toBeGreaterThanOrEqual(videoPeak);
    expect(variant.attributes.RESOLUTION).toEqual({ width: 640, height: 360 });
  });

  it('records the end in the status document', () => {
    const status = JSON.parse(store.text('streams/colors/status.json')!) as StreamStatus;
    expect(status).toMatchObject({ streamId: 'colors', state: 'ended', targetDuration: 2 });
    expect(status.renditions.map((r) => r.name)).toEqual(['source', 'audio']);
  });
});
