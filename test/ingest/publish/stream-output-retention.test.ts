/** Retention: media leaving the live window is deleted only once no manifest can still send a player to it; `all` records the stream. */
import { beforeAll, describe, expect, it } from 'vitest';
import { StreamOutput } from '../../../ingest/publish/stream-output.ts';
import type { Retention } from '../../../ingest/publish/retention.ts';
import { PASSTHROUGH_ONLY } from '../../../ingest/transcode/ladder.ts';
import { parseM3u8 } from '../../helpers/m3u8.ts';
import { listedObjects, OrderCheckingStore } from '../../helpers/order-checking-store.ts';
import { makeFlv, segmentTrack, transcodeToCmaf, type SegmentedTrack } from '../../helpers/media-fixtures.ts';

const START = Date.parse('2026-11-24T12:00:00Z');
const SESSIONS = ['sessiona1', 'sessionb2', 'sessionc3'];

describe('retention', () => {
  let video: SegmentedTrack;
  let audio: SegmentedTrack;

  beforeAll(async () => {
    const [v, a] = (await transcodeToCmaf(await makeFlv({ seconds: 7, gopFrames: 60 }))) as [Buffer, Buffer];
    video = segmentTrack(v);
    audio = segmentTrack(a);
  });

  /** Three sessions of four segments each, one segment time at a time, with a 3-segment window. */
  async function broadcast(retention: Retention) {
    const store = new OrderCheckingStore();
    let clock = START;
    const output = new StreamOutput({
      playbackId: 'colors',
      renditions: PASSTHROUGH_ONLY,
      store,
      targetSegmentDuration: 2,
      windowSegments: 3,
      now: () => clock,
      retention,
      onError: (error) => {
        throw error;
      },
    });
    const storedDuring: number[] = [];
    for (const session of SESSIONS) {
      output.beginSession(session);
      output.noteChunkReceived(session, 0.333);
      output.publishInit(session, 'source', video.init, video.track);
      output.publishInit(session, 'audio', audio.init, audio.track);
      for (let i = 0; i < 4; i++) {
        clock += 2000;
        output.publishSegment(session, 'source', video.segments[i]!);
        output.publishSegment(session, 'audio', audio.segments[i]!);
        await output.idle();
        storedDuring.push([...store.objects.keys()].filter((key) => key.endsWith('.m4s')).length);
      }
    }
    await output.end();
    return { store, storedDuring };
  }

  it('deletes segments and init segments a window after they left every manifest, never one still listed', async () => {
    const { store, storedDuring } = await broadcast('window');
    expect(store.violations).toEqual([]);
    // Storage stays bounded: at most the window plus a window of grace, per rendition.
    expect(Math.max(...storedDuring)).toBeLessThanOrEqual(2 * (3 + 3 + 1));
    const deletedSegments = store.deletes.filter((key) => key.endsWith('.m4s'));
    expect(deletedSegments.length).toBeGreaterThanOrEqual(2 * 5);
    expect(store.deletes).toContain('streams/colors/source/init-sessiona1.mp4');
    expect(store.deletes).toContain('streams/colors/audio/init-sessiona1.mp4');
    expect(store.deletes).not.toContain('streams/colors/source/init-sessionc3.mp4');
    // The ended playlists list the last window, all of it still stored.
    for (const rendition of ['source', 'audio']) {
      const key = `streams/colors/${rendition}/index.m3u8`;
      const playlist = parseM3u8(store.text(key)!);
      expect(playlist.endList).toBe(true);
      expect(playlist.segments).toHaveLength(3);
      for (const object of listedObjects(key, store.text(key)!)) expect(store.objects.has(object), object).toBe(true);
    }
  });

  it('keeps everything with retention "all", and the ended stream lists the whole recording', async () => {
    const { store } = await broadcast('all');
    expect(store.deletes).toEqual([]);
    const playlist = parseM3u8(store.text('streams/colors/source/index.m3u8')!);
    expect(playlist.endList).toBe(true);
    expect(playlist.segments).toHaveLength(12);
    expect(playlist.mediaSequence ?? 0).toBe(0);
    expect(playlist.discontinuitySequence ?? 0).toBe(0);
    expect(playlist.segments.flatMap((segment, index) => (segment.discontinuity ? [index] : []))).toEqual([4, 8]);
    expect(playlist.segments[0]!.uri).toBe(`sessiona1-${video.segments[0]!.startTime}.m4s`);
    const mpd = store.text('streams/colors/manifest.mpd')!;
    expect(mpd).toContain('type="static"');
    expect(listedObjects('streams/colors/manifest.mpd', mpd).filter((key) => key.includes('/source/') && key.endsWith('.m4s'))).toHaveLength(12);
    expect(store.violations).toEqual([]);
  });
});
