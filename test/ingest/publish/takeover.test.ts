/**
 * A new publish of a stream whose sidecar died without ending it (issue 16 item 3): continued
 * from the stored playlists within the stream's reconnect window (a takeover: same numbers, a
 * discontinuity at the join, no URL reused, the status live), a new broadcast numbered after
 * them once the window is long past, or with no reconnect window at all.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { continuesStoredBroadcast } from '../../../ingest/publish/restore.ts';
import { TAKEOVER_ALLOWANCE_MS } from '../../../shared/live-channel-protocol.ts';
import { StreamOutput, type StreamOutputOptions } from '../../../ingest/publish/stream-output.ts';
import { PASSTHROUGH_ONLY } from '../../../ingest/transcode/ladder.ts';
import { parseMediaPlaylist } from '../../../shared/hls/media-playlist.ts';
import { parseStreamStatus } from '../../../shared/stream-status.ts';
import { makeFlv, segmentTrack, transcodeToCmaf, type SegmentedTrack } from '../../helpers/media-fixtures.ts';
import { OrderCheckingStore } from '../../helpers/order-checking-store.ts';

const START = Date.parse('2026-12-06T06:00:00Z');

describe('continuesStoredBroadcast', () => {
  const now = START;
  it('continues within the reconnect window plus the allowance for the dead lease, not after', () => {
    expect(continuesStoredBroadcast(now - 5_000, now, 30_000)).toBe(true);
    expect(continuesStoredBroadcast(now - 30_000 - TAKEOVER_ALLOWANCE_MS, now, 30_000)).toBe(true);
    expect(continuesStoredBroadcast(now - 30_001 - TAKEOVER_ALLOWANCE_MS, now, 30_000)).toBe(false);
  });
  it('never with no reconnect window or no timed media; always for a sidecar\'s own journal (no window given)', () => {
    expect(continuesStoredBroadcast(now - 1_000, now, 0)).toBe(false);
    expect(continuesStoredBroadcast(undefined, now, 30_000)).toBe(false);
    expect(continuesStoredBroadcast(Number.NaN, now, 30_000)).toBe(false);
    expect(continuesStoredBroadcast(now - 86_400_000, now, undefined)).toBe(true);
  });
});

describe('a new publish after the stream\'s sidecar died', () => {
  let video: SegmentedTrack;
  let audio: SegmentedTrack;
  beforeAll(async () => {
    const [v, a] = (await transcodeToCmaf(await makeFlv({ seconds: 7, gopFrames: 60 }))) as [Buffer, Buffer];
    [video, audio] = [segmentTrack(v), segmentTrack(a)];
  });

  function options(store: OrderCheckingStore, now: () => number, takeOverWithinMs?: number): StreamOutputOptions {
    const sink = { sendPart: () => {}, withdrawPart: () => {} };
    return {
      playbackId: 'colors',
      renditions: PASSTHROUGH_ONLY,
      store,
      targetSegmentDuration: 2,
      windowSegments: 10,
      now,
      onError: (error) => {
        throw error;
      },
      lowLatency: { sink, partTarget: 0.333 },
      ...(takeOverWithinMs === undefined ? {} : { takeOverWithinMs }),
    };
  }

  async function publish(output: StreamOutput, session: string, segments: number, tick: () => void) {
    output.beginSession(session);
    output.noteChunkReceived(session, 0.333);
    output.publishInit(session, 'source', video.init, video.track);
    output.publishInit(session, 'audio', audio.init, audio.track);
    for (let i = 0; i < segments; i++) {
      tick();
      output.publishSegment(session, 'source', video.segments[i]!);
      output.publishSegment(session, 'audio', audio.segments[i]!);
      await output.idle();
    }
  }

  /** Sidecar A publishes two segments and dies (no end); B's output starts `afterMs` later. */
  async function afterDeath(afterMs: number, takeOverWithinMs: number) {
    const store = new OrderCheckingStore();
    let clock = START;
    const tick = () => (clock += 2000);
    await publish(new StreamOutput(options(store, () => clock)), 'sessiona1', 2, tick);
    const leftBehind = parseMediaPlaylist(store.text('streams/colors/source/index.m3u8')!);
    clock += afterMs;
    const b = new StreamOutput(options(store, () => clock, takeOverWithinMs));
    const takenOver = await b.restoreFromStorage();
    await publish(b, 'sessionb2', 1, tick);
    const after = parseMediaPlaylist(store.text('streams/colors/source/index.m3u8')!);
    const parsed = parseStreamStatus(JSON.parse(store.text('streams/colors/status.json')!));
    if (!parsed.ok) throw new Error(parsed.reason);
    const status = parsed.status;
    expect(store.violations).toEqual([]);
    return { leftBehind, after, takenOver, status };
  }

  it('within the reconnect window, takes the stream over: same numbers, a gap for the segment being cut, a discontinuity, no URL reused', async () => {
    const { leftBehind, after, takenOver, status } = await afterDeath(8_000, 30_000);
    expect(takenOver).toBe(true);
    expect(leftBehind.ended).toBe(false);
    expect(after.mediaSequence).toBe(leftBehind.mediaSequence);
    expect(after.segments.slice(0, leftBehind.segments.length).map((segment) => segment.uri)).toEqual(leftBehind.segments.map((segment) => segment.uri));
    const joined = after.segments.slice(leftBehind.segments.length);
    expect(joined.map((segment) => [segment.gap ?? false, segment.discontinuity ?? false])).toEqual([
      [true, false],
      [false, true],
    ]);
    expect(joined[1]!.uri.startsWith('sessionb2-')).toBe(true);
    expect(new Set(after.segments.map((segment) => segment.uri)).size).toBe(after.segments.length);
    expect(status.state).toBe('live');
  });

  it('long after the window, starts a new broadcast numbered after the stored one (nothing of it listed)', async () => {
    const { leftBehind, after, takenOver } = await afterDeath(3_600_000, 30_000);
    expect(takenOver).toBe(false);
    expect(after.mediaSequence).toBe(leftBehind.mediaSequence + leftBehind.segments.length);
    expect(after.segments.map((segment) => segment.uri.split('-')[0])).toEqual(['sessionb2']);
    expect(after.segments[0]!.discontinuity ?? false).toBe(false);
  });

  it('with no reconnect window, a new broadcast even right after the death', async () => {
    const { after, takenOver } = await afterDeath(8_000, 0);
    expect(takenOver).toBe(false);
    expect(after.segments.every((segment) => segment.uri.startsWith('sessionb2-'))).toBe(true);
  });
});
