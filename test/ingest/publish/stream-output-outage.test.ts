/**
 * A stream's output when storage fails. The store here fails on command: a unit test needs the
 * outage at an exact moment (the end-to-end storage test makes a real S3 server go away).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { StreamOutput } from '../../../ingest/publish/stream-output.ts';
import { PASSTHROUGH_ONLY } from '../../../ingest/transcode/ladder.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import type { PutOptions } from '../../../shared/storage/object-store.ts';
import { parseMediaPlaylist } from '../../../shared/hls/media-playlist.ts';
import { parseM3u8 } from '../../helpers/m3u8.ts';
import { makeFlv, segmentTrack, transcodeToCmaf, type SegmentedTrack } from '../../helpers/media-fixtures.ts';

class Unavailable extends Error {
  readonly retryable = true;
}

/** A store that can be taken down; it records the most puts it ever had in flight at once. */
class OutageStore extends MemoryObjectStore {
  down = false;
  inFlight = 0;
  maxInFlight = 0;
  readonly listedMissing: string[] = [];

  override async put(key: string, body: Uint8Array | string, options: PutOptions): Promise<void> {
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (this.down) throw new Unavailable(`storage down: ${key}`);
      if (key.endsWith('/index.m3u8') && key.split('/').length > 3) {
        const dir = key.slice(0, key.lastIndexOf('/') + 1);
        // A gap is listed for its number and time, not for its media: it need not be stored.
        for (const segment of parseMediaPlaylist(String(body)).segments.filter((listed) => !listed.gap)) {
          if (!this.objects.has(dir + segment.uri)) this.listedMissing.push(`${key} -> ${segment.uri}`);
        }
      }
      await super.put(key, body, options);
    } finally {
      this.inFlight -= 1;
    }
  }
}

describe('stream output during a storage outage', () => {
  let video: SegmentedTrack;
  let audio: SegmentedTrack;

  beforeAll(async () => {
    const [v, a] = (await transcodeToCmaf(await makeFlv({ seconds: 12, gopFrames: 60 }))) as [Buffer, Buffer];
    video = segmentTrack(v);
    audio = segmentTrack(a);
  });

  function streamOutput(store: OutageStore, bufferBytes: number, errors: string[]) {
    let clock = Date.parse('2026-11-24T12:00:00Z');
    const instance = new StreamOutput({
      playbackId: 'outage',
      renditions: PASSTHROUGH_ONLY,
      store,
      targetSegmentDuration: 2,
      windowSegments: 20,
      now: () => (clock += 100),
      onError: (error) => errors.push(String(error)),
      limits: { parallelUploads: 3, bufferBytes, backoff: { initialDelayMs: 2, maxDelayMs: 10 } },
    });
    instance.beginSession('outagesess');
    instance.noteChunkReceived('outagesess', 0.333);
    instance.publishInit('outagesess', 'source', video.init, video.track);
    instance.publishInit('outagesess', 'audio', audio.init, audio.track);
    return instance;
  }

  it('uploads in parallel, lists in order, and catches up after an outage shorter than the buffer', async () => {
    const store = new OutageStore();
    const errors: string[] = [];
    const stream = streamOutput(store, 64 * 1024 * 1024, errors);
    stream.publishSegment('outagesess', 'source', video.segments[0]!);
    stream.publishSegment('outagesess', 'audio', audio.segments[0]!);
    await stream.idle();
    store.down = true;
    for (let i = 1; i < video.segments.length; i++) {
      stream.publishSegment('outagesess', 'source', video.segments[i]!);
      stream.publishSegment('outagesess', 'audio', audio.segments[i]!);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(parseM3u8(store.text('streams/outage/source/index.m3u8')!).segments).toHaveLength(1);
    store.down = false;
    await stream.end();
    const final = parseM3u8(store.text('streams/outage/source/index.m3u8')!);
    expect(final.segments.map((segment) => segment.uri)).toEqual(video.segments.map((segment) => `outagesess-${segment.startTime}.m4s`));
    expect(final.segments.some((segment) => segment.discontinuity)).toBe(false);
    expect(final.endList).toBe(true);
    expect(store.maxInFlight).toBeGreaterThan(1);
    expect(store.maxInFlight).toBeLessThanOrEqual(3 + 3); // segment uploads, plus playlist writes
    expect(store.listedMissing).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('drops the oldest waiting segments when an outage outlasts the buffer, and lists them as gaps under their own numbers', async () => {
    const store = new OutageStore();
    const errors: string[] = [];
    // Room for about two video segments.
    const stream = streamOutput(store, Math.round(video.segments[0]!.bytes.length * 2.5), errors);
    stream.publishSegment('outagesess', 'source', video.segments[0]!);
    await stream.idle();
    store.down = true;
    for (let i = 1; i < video.segments.length; i++) stream.publishSegment('outagesess', 'source', video.segments[i]!);
    await new Promise((resolve) => setTimeout(resolve, 50));
    store.down = false;
    for (const segment of audio.segments) stream.publishSegment('outagesess', 'audio', segment);
    await stream.end();
    const final = parseMediaPlaylist(store.text('streams/outage/source/index.m3u8')!);
    const names = final.segments.map((segment) => segment.uri);
    // Every segment cut keeps its number (and its name): a dropped one is an EXT-X-GAP, not a hole.
    expect(names).toEqual(video.segments.map((segment) => `outagesess-${segment.startTime}.m4s`));
    const gaps = final.segments.flatMap((segment, index) => (segment.gap ? [index] : []));
    expect(gaps.length).toBeGreaterThan(0);
    expect(gaps).not.toContain(0);
    expect(gaps).not.toContain(names.length - 1);
    // The gap carries the media's time: the timeline goes on without a discontinuity.
    expect(final.segments.some((segment) => segment.discontinuity)).toBe(false);
    for (const index of gaps) expect(final.segments[index]!.duration).toBeCloseTo(video.segments[index]!.duration / video.track.timescale, 3);
    expect(final.mediaSequence).toBe(0);
    // The audio, stored whole, lists the same numbers with media.
    expect(parseMediaPlaylist(store.text('streams/outage/audio/index.m3u8')!).segments.filter((segment) => segment.gap)).toEqual([]);
    expect(errors.some((error) => /dropped the \d+ oldest waiting segment/.test(error))).toBe(true);
    expect(store.listedMissing).toEqual([]);
  });
});
