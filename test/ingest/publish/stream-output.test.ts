import { parse as parseMpd } from 'mpd-parser';
import { beforeAll, describe, expect, it } from 'vitest';
import { StreamOutput, type StreamOutputOptions } from '../../../ingest/publish/stream-output.ts';
import { PASSTHROUGH_ONLY } from '../../../ingest/transcode/ladder.ts';
import { parseMediaPlaylist } from '../../../shared/hls/media-playlist.ts';
import { parseStreamStatus, type StreamStatus } from '../../../shared/stream-status.ts';
import { parseM3u8 as parse } from '../../helpers/m3u8.ts';
import { OrderCheckingStore } from '../../helpers/order-checking-store.ts';
import { makeFlv, segmentTrack, transcodeToCmaf, type SegmentedTrack } from '../../helpers/media-fixtures.ts';

const START = Date.parse('2026-11-24T12:00:00Z');

/** Stream `colors`, passthrough, 2 s segments in a 3-segment window, on the test's clock; any storage error fails the test. */
function outputOptions(store: OrderCheckingStore, now: () => number): StreamOutputOptions {
  return {
    playbackId: 'colors',
    renditions: PASSTHROUGH_ONLY,
    store,
    targetSegmentDuration: 2,
    windowSegments: 3,
    now,
    onError: (error) => {
      throw error;
    },
  };
}

describe('stream output', () => {
  let video: SegmentedTrack;
  let audio: SegmentedTrack;
  const store = new OrderCheckingStore();
  let clock = START;

  /** One session: its init segments, then its segments interleaved as ffmpeg makes them. */
  async function publishSession(output: StreamOutput, session: string) {
    output.beginSession(session);
    output.noteChunkReceived(session, 0.333);
    output.publishInit(session, 'source', video.init, video.track);
    output.publishInit(session, 'audio', audio.init, audio.track);
    for (let i = 0; i < Math.max(video.segments.length, audio.segments.length); i++) {
      clock += 2000;
      if (video.segments[i]) output.publishSegment(session, 'source', video.segments[i]!);
      if (audio.segments[i]) output.publishSegment(session, 'audio', audio.segments[i]!);
      // One segment time at a time, as live: every playlist version gets written.
      await output.idle();
    }
  }

  beforeAll(async () => {
    const [v, a] = (await transcodeToCmaf(await makeFlv({ seconds: 7, gopFrames: 60 }))) as [Buffer, Buffer];
    video = segmentTrack(v);
    audio = segmentTrack(a);
    const output = new StreamOutput(outputOptions(store, () => clock));
    await publishSession(output, 'sessiona1');
    await output.pause();
    clock += 5000; // the publisher is away for a while, then reconnects
    await publishSession(output, 'sessionb2');
    await output.end();
  });

  it('never writes a playlist before everything it lists is stored', () => {
    expect(store.violations).toEqual([]);
    expect(store.writes.indexOf('streams/colors/index.m3u8')).toBeGreaterThan(store.writes.indexOf('streams/colors/audio/index.m3u8'));
  });

  it('continues numbering across sessions, with a discontinuity and a new EXT-X-MAP at the join', () => {
    const versions = store.versions.get('streams/colors/source/index.m3u8')!.map(parse);
    const join = versions.find((version) => version.segments.some((segment) => segment.uri.startsWith('sessionb2-')))!;
    // Names are per session (session + media time); the playlist position carries the sequence number.
    const name = (session: string, i: number) => `${session}-${video.segments[i]!.startTime}.m4s`;
    expect(join.segments.map((segment) => segment.uri)).toEqual([name('sessiona1', 2), name('sessiona1', 3), name('sessionb2', 0)]);
    expect(join.mediaSequence).toBe(2);
    const first = join.segments[2]!;
    expect(first.discontinuity).toBe(true);
    expect(first.map?.uri).toBe('init-sessionb2.mp4');
    expect(join.segments[1]!.map?.uri).toBe('init-sessiona1.mp4');
    expect(join.discontinuitySequence ?? 0).toBe(0);
    // Media sequence numbers only ever grow, version after version.
    const sequences = versions.map((version) => version.mediaSequence ?? 0);
    expect([...sequences].sort((x, y) => x - y)).toEqual(sequences);
  });

  it('describes the same segments in a DASH MPD: a Period per session, static once ended', () => {
    const versions = store.versions.get('streams/colors/manifest.mpd')!;
    expect(versions.length).toBeGreaterThan(3);
    expect(versions.map((text) => (text.match(/<Period /g) ?? []).length)).toContain(2);
    // A Period keeps its start (and offset) in every version, however the window slides.
    const starts = new Map<string, Set<string>>();
    for (const text of versions.filter((version) => version.includes('type="dynamic"'))) {
      for (const [, id, start] of text.matchAll(/<Period id="([^"]+)" start="([^"]+)"/g)) starts.set(id!, (starts.get(id!) ?? new Set()).add(start!));
    }
    expect(starts.size).toBe(2);
    for (const values of starts.values()) expect(values.size).toBe(1);
    const final = versions.at(-1)!;
    expect(final).toContain('type="static"');
    const video = parseMpd(final, { manifestUri: 'http://edge/streams/colors/manifest.mpd' }).playlists[0]!;
    const hls = parse(store.text('streams/colors/source/index.m3u8')!);
    expect(video.segments.map((segment) => segment.uri)).toEqual(hls.segments.map((segment) => `source/${segment.uri}`));
  });

  it('counts the discontinuity once it slides out, and ends with EXT-X-ENDLIST', () => {
    const final = parse(store.text('streams/colors/source/index.m3u8')!);
    expect(final.endList).toBe(true);
    expect(final.segments.map((s) => s.uri)).toEqual([1, 2, 3].map((i) => `sessionb2-${video.segments[i]!.startTime}.m4s`));
    expect(final.mediaSequence).toBe(5);
    expect(final.discontinuitySequence).toBe(1);
    expect(parse(store.text('streams/colors/audio/index.m3u8')!).endList).toBe(true);
  });

  it('stamps program date time from the ingest clock of each session', () => {
    const final = parse(store.text('streams/colors/source/index.m3u8')!).segments;
    for (let i = 1; i < final.length; i++) {
      expect(final[i]!.dateTimeObject!.getTime() - final[i - 1]!.dateTimeObject!.getTime()).toBe(final[i - 1]!.duration * 1000);
    }
    // The second session's media time 0 is anchored to when its first chunk arrived.
    const sessionB = START + 4 * 2000 + 5000 - 333;
    expect(final[0]!.dateTimeObject!.getTime()).toBe(sessionB + 2000 * 1);
  });

  it("lists dates and durations that add up: a segment's date plus its EXTINF is the next one's date, in every version of every rendition", async () => {
    // The audio's segments (1024-sample frames) are not whole milliseconds long, nor is the clock
    // at media time zero: each rounded on its own, a date and a duration disagreed by 1 ms at
    // about one boundary in three (segment-clock.ts says what that did to Shaka Player).
    const own = new OrderCheckingStore();
    const output = new StreamOutput(outputOptions(own, () => START + 0.6));
    output.beginSession('sessionc3');
    output.noteChunkReceived('sessionc3', 0.3337);
    output.publishInit('sessionc3', 'source', video.init, video.track);
    output.publishInit('sessionc3', 'audio', audio.init, audio.track);
    for (let i = 0; i < Math.max(video.segments.length, audio.segments.length); i++) {
      if (video.segments[i]) output.publishSegment('sessionc3', 'source', video.segments[i]!);
      if (audio.segments[i]) output.publishSegment('sessionc3', 'audio', audio.segments[i]!);
      await output.idle();
    }
    await output.end();
    for (const text of [...own.versions.get('streams/colors/source/index.m3u8')!, ...own.versions.get('streams/colors/audio/index.m3u8')!, ...store.versions.get('streams/colors/audio/index.m3u8')!]) {
      const segments = parseMediaPlaylist(text).segments;
      for (let i = 1; i < segments.length; i++) {
        const [before, after] = [segments[i - 1]!, segments[i]!];
        expect(Number.isInteger(after.programDateTime), `${after.uri}'s date`).toBe(true);
        if (!after.discontinuity) expect(after.programDateTime - before.programDateTime, `${before.uri} to ${after.uri}`).toBe(Math.round(before.duration * 1000));
      }
    }
  });

  it('advertises measured bandwidth and real codecs in the multivariant playlist', () => {
    const manifest = parse(store.text('streams/colors/index.m3u8')!);
    const variant = manifest.playlists![0]!;
    expect(variant.attributes.CODECS).toBe(`${video.track.codec},mp4a.40.2`);
    expect(variant.attributes.BANDWIDTH).toBeGreaterThanOrEqual((video.segments[0]!.bytes.length * 8) / 2);
    expect(variant.attributes.RESOLUTION).toEqual({ width: 640, height: 360 });
  });

  it('records the reconnect and the end in the status document, one the edge reads', () => {
    const status = JSON.parse(store.text('streams/colors/status.json')!) as StreamStatus;
    expect(parseStreamStatus(status)).toEqual({ ok: true, status });
    expect(status).toMatchObject({ playbackId: 'colors', state: 'ended', targetDuration: 2, restarts: 1 });
    expect(status.renditions.map((r) => r.name)).toEqual(['source', 'audio']);
  });
});

describe('stream output writing the DASH MPD', () => {
  /** A passthrough stream of `seconds` with its session begun and its init segments published, on a clock the test moves. */
  async function begunStream(seconds: number) {
    const [v, a] = (await transcodeToCmaf(await makeFlv({ seconds, gopFrames: 60 }))) as [Buffer, Buffer];
    const [video, audio] = [segmentTrack(v), segmentTrack(a)];
    const store = new OrderCheckingStore();
    // The output reads the clock through this object: the test moves `stream.clock`.
    const stream = { clock: START };
    const output = new StreamOutput(outputOptions(store, () => stream.clock));
    output.beginSession('sessiona1');
    output.noteChunkReceived('sessiona1', 0.333);
    output.publishInit('sessiona1', 'source', video.init, video.track);
    output.publishInit('sessiona1', 'audio', audio.init, audio.track);
    return { video, audio, store, output, stream };
  }

  it('stores it once a segment when the renditions list it one after the other, not once per rendition', async () => {
    const { video, audio, store, output, stream } = await begunStream(9);
    const segments = Math.min(video.segments.length, audio.segments.length);
    for (let i = 0; i < segments; i++) {
      // The video's segment is listed a moment before the audio's, as live; past the 3-segment
      // window each listing also slides its rendition's oldest segment out.
      stream.clock += 1950;
      output.publishSegment('sessiona1', 'source', video.segments[i]!);
      await output.idle();
      stream.clock += 50;
      output.publishSegment('sessiona1', 'audio', audio.segments[i]!);
      await output.idle();
    }
    const versions = store.versions.get('streams/colors/manifest.mpd')!;
    expect(versions.length).toBe(segments);
    // Each version ends a segment later than the one before.
    const lastSegments = versions.map((text) => parseMpd(text, { manifestUri: 'http://edge/streams/colors/manifest.mpd', NOW: stream.clock }).playlists[0]!.segments.at(-1)!.uri);
    expect(new Set(lastSegments).size).toBe(segments);
    await output.end();
    expect(store.text('streams/colors/manifest.mpd')).toContain('type="static"');
    expect(store.violations).toEqual([]);
  });

  it('stores it after two target durations even when a rendition stops listing', async () => {
    const { video, audio, store, output, stream } = await begunStream(9);
    for (let i = 0; i < 2; i++) {
      stream.clock += 2000;
      output.publishSegment('sessiona1', 'source', video.segments[i]!);
      output.publishSegment('sessiona1', 'audio', audio.segments[i]!);
      await output.idle();
    }
    const before = store.versions.get('streams/colors/manifest.mpd')!.length;
    // The audio stops; the video lists on.
    for (let i = 2; i < video.segments.length; i++) {
      stream.clock += 2000;
      output.publishSegment('sessiona1', 'source', video.segments[i]!);
      await output.idle();
    }
    expect(store.versions.get('streams/colors/manifest.mpd')!.length).toBeGreaterThan(before);
    expect(store.violations).toEqual([]);
  });
});

describe('stream output taking up a stream after a sidecar crash', () => {
  it('says the restored stream waits for its publisher, and ends it with ENDLIST, a static MPD and an ended status', async () => {
    const [v, a] = (await transcodeToCmaf(await makeFlv({ seconds: 5, gopFrames: 60 }))) as [Buffer, Buffer];
    const [video, audio] = [segmentTrack(v), segmentTrack(a)];
    const store = new OrderCheckingStore();
    let clock = START;
    const options = outputOptions(store, () => clock);
    const crashed = new StreamOutput(options);
    crashed.beginSession('sessiona1');
    crashed.noteChunkReceived('sessiona1', 0.333);
    crashed.publishInit('sessiona1', 'source', video.init, video.track);
    crashed.publishInit('sessiona1', 'audio', audio.init, audio.track);
    for (let i = 0; i < 2; i++) {
      clock += 2000;
      crashed.publishSegment('sessiona1', 'source', video.segments[i]!);
      crashed.publishSegment('sessiona1', 'audio', audio.segments[i]!);
      await crashed.idle();
    }
    const status = () => (JSON.parse(store.text('streams/colors/status.json')!) as StreamStatus).state;
    expect(status()).toBe('live');
    const listedBeforeCrash = parse(store.text('streams/colors/source/index.m3u8')!).segments.map((segment) => segment.uri);
    expect(listedBeforeCrash.length).toBeGreaterThan(0);
    // The sidecar is killed here (nothing more from `crashed`); the next one takes the stream up.
    const restarted = new StreamOutput(options);
    await restarted.restoreFromStorage();
    await restarted.pause();
    expect(status()).toBe('reconnecting');
    clock += 8000;
    await restarted.end();
    expect(status()).toBe('ended');
    for (const rendition of ['source', 'audio']) {
      const ended = parse(store.text(`streams/colors/${rendition}/index.m3u8`)!);
      expect(ended.endList).toBe(true);
      if (rendition === 'source') expect(ended.segments.map((segment) => segment.uri)).toEqual(listedBeforeCrash);
    }
    expect(store.text('streams/colors/manifest.mpd')).toContain('type="static"');
    expect(store.violations).toEqual([]);
  });

  it('with parts announced, goes on after a gap for the segment the dead sidecar was cutting, named exactly as its parts were', async () => {
    const [v, a] = (await transcodeToCmaf(await makeFlv({ seconds: 7, gopFrames: 60 }))) as [Buffer, Buffer];
    const [video, audio] = [segmentTrack(v), segmentTrack(a)];
    const store = new OrderCheckingStore();
    let clock = START;
    const sink = { sendPart: () => {}, withdrawPart: () => {} };
    const options = { ...outputOptions(store, () => clock), windowSegments: 10, lowLatency: { sink, partTarget: 0.333 } };
    const crashed = new StreamOutput(options);
    crashed.beginSession('sessiona1');
    crashed.noteChunkReceived('sessiona1', 0.333);
    crashed.publishInit('sessiona1', 'source', video.init, video.track);
    crashed.publishInit('sessiona1', 'audio', audio.init, audio.track);
    for (let i = 0; i < 2; i++) {
      clock += 2000;
      crashed.publishSegment('sessiona1', 'source', video.segments[i]!);
      crashed.publishSegment('sessiona1', 'audio', audio.segments[i]!);
      await crashed.idle();
    }
    // Killed while cutting segment 2, whose parts viewers may hold; the next sidecar takes the stream up.
    const restarted = new StreamOutput(options);
    await restarted.restoreFromStorage();
    restarted.beginSession('sessionb2');
    restarted.noteChunkReceived('sessionb2', 0.333);
    restarted.publishInit('sessionb2', 'source', video.init, video.track);
    restarted.publishInit('sessionb2', 'audio', audio.init, audio.track);
    clock += 4000;
    restarted.publishSegment('sessionb2', 'source', video.segments[0]!);
    restarted.publishSegment('sessionb2', 'audio', audio.segments[0]!);
    await restarted.idle();
    for (const [rendition, track] of [['source', video], ['audio', audio]] as const) {
      const playlist = parseMediaPlaylist(store.text(`streams/colors/${rendition}/index.m3u8`)!);
      expect(playlist.segments.map((segment) => [segment.uri, segment.gap ?? false, segment.discontinuity ?? false]), rendition).toEqual([
        [`sessiona1-${track.segments[0]!.startTime}.m4s`, false, false],
        [`sessiona1-${track.segments[1]!.startTime}.m4s`, false, false],
        // The name the parts of segment 2 had: the end of segment 1, read from its fragments (EXTINF is rounded).
        [`sessiona1-${track.segments[2]!.startTime}.m4s`, true, false],
        [`sessionb2-${track.segments[0]!.startTime}.m4s`, false, true],
      ]);
    }
    await restarted.end();
    // Ended, the playlist stops at its media, the gap before the new session stays.
    expect(parseMediaPlaylist(store.text('streams/colors/source/index.m3u8')!).segments.filter((segment) => segment.gap)).toHaveLength(1);
    expect(store.violations).toEqual([]);
  });
});

describe('stream output starting a new broadcast of a stream id used before', () => {
  /** Remembers, at every status write, what storage held for the multivariant playlist. */
  class StatusWatchingStore extends OrderCheckingStore {
    readonly statusWrites: { state: string; statusRenditions: string[]; multivariantRenditions: string[] }[] = [];
    override async put(key: string, body: Uint8Array | string, options: Parameters<OrderCheckingStore['put']>[2]): Promise<void> {
      await super.put(key, body, options);
      if (!key.endsWith('/status.json')) return;
      const status = JSON.parse(String(body)) as StreamStatus;
      const multivariant = this.text('streams/colors/index.m3u8');
      const manifest = multivariant ? parse(multivariant) : undefined;
      const names = (uri: string) => uri.split('/')[0]!;
      this.statusWrites.push({
        state: status.state,
        statusRenditions: status.renditions.map((rendition) => rendition.name).sort(),
        multivariantRenditions: [
          ...(manifest?.playlists ?? []).map((playlist) => names(playlist.uri)),
          ...Object.values(manifest?.mediaGroups?.AUDIO ?? {}).flatMap((group) => Object.values(group).map((rendition) => names(rendition.uri!))),
        ].sort(),
      });
    }
  }

  it('says "starting" until its own multivariant playlist is stored: a live status never meets the previous ladder', async () => {
    const [v, a] = (await transcodeToCmaf(await makeFlv({ seconds: 5, gopFrames: 60 }))) as [Buffer, Buffer];
    const [video, audio] = [segmentTrack(v), segmentTrack(a)];
    const store = new StatusWatchingStore();
    let clock = START;
    async function broadcast(renditions: StreamOutputOptions['renditions'], session: string) {
      const output = new StreamOutput({ ...outputOptions(store, () => clock), renditions });
      await output.restoreFromStorage();
      output.beginSession(session);
      output.noteChunkReceived(session, 0.333);
      for (const rendition of renditions) output.publishInit(session, rendition.name, rendition.kind === 'audio' ? audio.init : video.init, rendition.kind === 'audio' ? audio.track : video.track);
      for (let i = 0; i < 2; i++) {
        clock += 2000;
        // The encoded rung lags a segment behind the others, as a real encoder does.
        for (const rendition of renditions) {
          const segments = rendition.kind === 'audio' ? audio.segments : video.segments;
          if (rendition.name !== '360p') output.publishSegment(session, rendition.name, segments[i]!);
          else if (i > 0) output.publishSegment(session, rendition.name, segments[i - 1]!);
        }
        await output.idle();
      }
      const rung = renditions.find((rendition) => rendition.name === '360p');
      if (rung) output.publishSegment(session, rung.name, video.segments[1]!);
      await output.idle();
      await output.end();
    }
    // Yesterday's broadcast: source and audio. Today's: another ladder, under the same id.
    await broadcast(PASSTHROUGH_ONLY, 'sessiona1');
    const yesterday = store.statusWrites.length;
    clock += 86_400_000;
    await broadcast([...PASSTHROUGH_ONLY, { name: '360p', kind: 'video', encoding: 'h264', height: 360, bitrate: 800_000, preset: 'veryfast' } as StreamOutputOptions['renditions'][number]], 'sessionb2');
    const today = store.statusWrites.slice(yesterday);
    expect(today[0]!.state).toBe('starting');
    expect(today.map((write) => write.state)).toContain('live');
    for (const write of store.statusWrites.filter((entry) => entry.state === 'live')) expect(write.multivariantRenditions).toEqual(write.statusRenditions);
    expect(today.at(-1)!.state).toBe('ended');
    expect(store.violations).toEqual([]);
  });
});

describe('stream output with an encoded rung that lags', () => {
  it('lists the passthrough rendition and the audio as they are stored, under the numbers the rung lists later; the multivariant waits for every rendition', async () => {
    const [v, a] = (await transcodeToCmaf(await makeFlv({ seconds: 9, gopFrames: 60 }))) as [Buffer, Buffer];
    const [video, audio] = [segmentTrack(v), segmentTrack(a)];
    const store = new OrderCheckingStore();
    let clock = START;
    const rung = { name: '360p', kind: 'video', encoding: 'h264', height: 360, bitrate: 800_000, preset: 'veryfast' } as StreamOutputOptions['renditions'][number];
    const output = new StreamOutput({ ...outputOptions(store, () => clock), renditions: [...PASSTHROUGH_ONLY, rung], windowSegments: 10 });
    output.beginSession('sessiona1');
    output.noteChunkReceived('sessiona1', 0.333);
    output.publishInit('sessiona1', 'source', video.init, video.track);
    output.publishInit('sessiona1', 'audio', audio.init, audio.track);
    output.publishInit('sessiona1', '360p', video.init, video.track);
    const LAG = 2;
    const listed = (name: string) => parse(store.text(`streams/colors/${name}/index.m3u8`) ?? '#EXTM3U\n').segments.map((segment) => segment.uri);
    for (let i = 0; i < video.segments.length; i++) {
      clock += 2000;
      output.publishSegment('sessiona1', 'source', video.segments[i]!);
      output.publishSegment('sessiona1', 'audio', audio.segments[i]!);
      if (i >= LAG) output.publishSegment('sessiona1', '360p', video.segments[i - LAG]!);
      await output.idle();
      // The source and the audio do not wait for the rung.
      expect(listed('source')).toHaveLength(i + 1);
      expect(listed('audio')).toHaveLength(i + 1);
      expect(listed('360p')).toHaveLength(Math.max(0, i + 1 - LAG));
      expect(store.text('streams/colors/index.m3u8') !== undefined).toBe(i >= LAG);
    }
    // The same segment has the same number in every rendition (the rung's segments are the source's here).
    const source = parse(store.text('streams/colors/source/index.m3u8')!);
    const rungPlaylist = parse(store.text('streams/colors/360p/index.m3u8')!);
    expect(rungPlaylist.mediaSequence ?? 0).toBe(source.mediaSequence ?? 0);
    expect(rungPlaylist.segments.map((segment) => segment.uri)).toEqual(source.segments.slice(0, rungPlaylist.segments.length).map((segment) => segment.uri));
    // The MPD stays at the common window: no representation ends later than the rung.
    const mpd = parseMpd(store.text('streams/colors/manifest.mpd')!, { manifestUri: 'http://edge/streams/colors/manifest.mpd' });
    for (const playlist of mpd.playlists) expect(playlist.segments).toHaveLength(rungPlaylist.segments.length);
    expect(store.violations).toEqual([]);
    await output.end();
  });
});

describe('stream output whose restore ends after its first segments were cut', () => {
  /** Reads wait until released: storage slow to answer what the previous broadcast left. */
  class SlowReadingStore extends OrderCheckingStore {
    private release!: () => void;
    readonly released = new Promise<void>((resolve) => (this.release = resolve));
    slow = false;
    override async get(...args: Parameters<OrderCheckingStore['get']>) {
      if (this.slow) await this.released;
      return super.get(...args);
    }
    override async head(...args: Parameters<OrderCheckingStore['head']>) {
      if (this.slow) await this.released;
      return super.head(...args);
    }
    open(): void {
      this.release();
    }
  }

  it('numbers them after what storage holds, as if the restore had come first: no gap, no number twice', async () => {
    const [v, a] = (await transcodeToCmaf(await makeFlv({ seconds: 7, gopFrames: 60 }))) as [Buffer, Buffer];
    const [video, audio] = [segmentTrack(v), segmentTrack(a)];
    const store = new SlowReadingStore();
    let clock = START;
    const options = { ...outputOptions(store, () => clock), windowSegments: 10 };
    async function broadcast(output: StreamOutput, session: string, segments: number) {
      output.beginSession(session);
      output.noteChunkReceived(session, 0.333);
      output.publishInit(session, 'source', video.init, video.track);
      output.publishInit(session, 'audio', audio.init, audio.track);
      for (let i = 0; i < segments; i++) {
        clock += 2000;
        output.publishSegment(session, 'source', video.segments[i]!);
        output.publishSegment(session, 'audio', audio.segments[i]!);
      }
    }
    const first = new StreamOutput(options);
    await first.restoreFromStorage();
    await broadcast(first, 'sessiona1', 3);
    await first.end();

    clock += 60_000;
    store.slow = true;
    const second = new StreamOutput(options);
    const restoring = second.restoreFromStorage();
    await broadcast(second, 'sessionb2', 2);
    store.open();
    await restoring;
    await second.idle();
    for (const rendition of ['source', 'audio']) {
      const playlist = parseMediaPlaylist(store.text(`streams/colors/${rendition}/index.m3u8`)!);
      // A new broadcast after an ended one: a fresh window whose numbers go on from the last one's.
      expect(playlist.mediaSequence, rendition).toBe(3);
      expect(playlist.segments.map((segment) => [segment.uri.split('-')[0], segment.gap ?? false]), rendition).toEqual([
        ['sessionb2', false],
        ['sessionb2', false],
      ]);
    }
    await second.end();
    expect(store.violations).toEqual([]);
  });
});
