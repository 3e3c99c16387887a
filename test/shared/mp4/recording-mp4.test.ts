/**
 * The recording MP4 muxer on real CMAF: the sidecar's in-process remux (passthrough) and its
 * ffmpeg command (encoded rungs). What a person downloading the file would check: ffprobe finds
 * one H.264 and one AAC stream of the recording's duration and frame count, ffmpeg decodes it
 * end to end without a complaint, every packet is the stored one (same bytes, same timestamps),
 * the length is the one announced, and the segments are read one at a time as the file is read.
 */
import { spawn } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { Mp4BoxError } from '../../../shared/mp4/box-reader.ts';
import { interleaveSegments, recordingMp4, RecordingNotMuxable, type Mp4TrackInput } from '../../../shared/mp4/recording-mp4.ts';
import { concatBytes } from '../../../ingest/package/bytes.ts';
import { findBox, view } from '../../../ingest/package/mp4-boxes.ts';
import { runFfprobe } from '../../helpers/ffprobe.ts';
import { probePackets } from '../../helpers/ffprobe-packets.ts';
import { makeFlv, segmentTrack, transcodeToCmaf } from '../../helpers/media-fixtures.ts';
import { remuxFlv, type JoinedSegment } from '../../helpers/remux.ts';

interface Recorded {
  tracks: Mp4TrackInput[];
  store: Map<string, Uint8Array>;
  /** Each track as a player of the stored CMAF reads it: init + every segment. */
  trackBytes: [Uint8Array, Uint8Array];
  videoSeconds: number;
  frameSeconds: number;
}

function recorded(video: { init: Uint8Array; segments: JoinedSegment[] }, audio: { init: Uint8Array; segments: JoinedSegment[] }): Recorded {
  const store = new Map<string, Uint8Array>();
  const tracks = [video, audio].map((track, trackIndex) => ({
    inits: [track.init],
    segments: track.segments.map((segment, index) => {
      const key = `streams/abc/${trackIndex}/${index}.m4s`;
      store.set(key, segment.bytes);
      return { key, durationSeconds: segment.duration / segment.track.timescale, bytes: segment.bytes.length };
    }),
  }));
  const videoSeconds = tracks[0]!.segments.reduce((sum, segment) => sum + segment.durationSeconds, 0);
  const trackBytes = [video, audio].map((track) => concatBytes([track.init, ...track.segments.map((segment) => segment.bytes)])) as [Uint8Array, Uint8Array];
  return { tracks, store, trackBytes, videoSeconds, frameSeconds: 1 / 30 };
}

/** Reads the stored bytes as storage would hand them: a fresh copy each time. */
const reader = (store: Map<string, Uint8Array>) => async (key: string) => {
  const bytes = store.get(key);
  if (!bytes) throw new Error(`no object ${key}`);
  return bytes.slice();
};

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function ffmpegDecodeErrors(bytes: Uint8Array): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-v', 'error', '-i', 'pipe:0', '-f', 'null', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk));
    child.stdin.on('error', () => {});
    child.stdin.end(bytes);
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, err }));
  });
}

interface ProbedStream {
  codec_type: string;
  codec_name: string;
  duration: string;
  nb_read_frames: string;
}

async function probeStreams(bytes: Uint8Array): Promise<ProbedStream[]> {
  const { code, out, err } = await runFfprobe(['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_type,codec_name,duration,nb_read_frames', '-of', 'json', '-i', 'pipe:0'], bytes);
  if (code !== 0 || err.trim()) throw new Error(`ffprobe failed (${code}): ${err.trim()}`);
  return (JSON.parse(out) as { streams: ProbedStream[] }).streams;
}

const sources: { name: string; make: () => Promise<Recorded> }[] = [
  {
    name: "the sidecar's remux (passthrough)",
    make: async () => {
      const remuxed = remuxFlv(await makeFlv({ seconds: 7, gopFrames: 60 }));
      return recorded(remuxed.video!, remuxed.audio!);
    },
  },
  {
    name: "the sidecar's ffmpeg (encoded rungs, B-frames)",
    make: async () => {
      const [video, audio] = (await transcodeToCmaf(await makeFlv({ seconds: 7, gopFrames: 60, bFrames: 2 }))) as [Buffer, Buffer];
      return recorded(segmentTrack(video), segmentTrack(audio));
    },
  },
];

describe.each(sources)('recording MP4 from $name', ({ make }) => {
  let source: Recorded;
  let file: Uint8Array;
  let contentLength: number;

  beforeAll(async () => {
    source = await make();
    const mp4 = recordingMp4({ tracks: source.tracks, readSegment: reader(source.store) });
    contentLength = mp4.contentLength;
    file = await readAll(mp4.stream());
  });

  it('is exactly as long as announced before any segment was read', () => {
    expect(file.length).toBe(contentLength);
  });

  it('has one H.264 and one AAC stream of the recording duration and frame count', async () => {
    const streams = await probeStreams(file);
    expect(streams.map((stream) => `${stream.codec_type}/${stream.codec_name}`)).toEqual(['video/h264', 'audio/aac']);
    const [video, audio] = streams as [ProbedStream, ProbedStream];
    expect(Math.abs(Number(video.duration) - source.videoSeconds)).toBeLessThanOrEqual(source.frameSeconds + 1e-6);
    const [storedVideo, storedAudio] = await Promise.all([probeStreams(source.trackBytes[0]), probeStreams(source.trackBytes[1])]);
    expect(Number(video.nb_read_frames)).toBe(Number(storedVideo[0]!.nb_read_frames));
    expect(Number(video.nb_read_frames)).toBeGreaterThanOrEqual(Math.round(source.videoSeconds * 30) - 1);
    expect(Number(audio.nb_read_frames)).toBe(Number(storedAudio[0]!.nb_read_frames));
  });

  it('decodes end to end without an error', async () => {
    const { code, err } = await ffmpegDecodeErrors(file);
    expect(err.trim()).toBe('');
    expect(code).toBe(0);
  });

  it('carries every stored packet unchanged: same bytes, same timestamps, same keyframes', async () => {
    for (const [index, kind] of (['video', 'audio'] as const).entries()) {
      const [inFile, stored] = await Promise.all([probePackets(file, kind), probePackets(source.trackBytes[index]!, kind)]);
      expect(inFile.length).toBe(stored.length);
      expect(inFile).toEqual(stored);
    }
  });

  it('is the same file read in one go or pulled slowly, and without the index only shorter by the index', async () => {
    const again = recordingMp4({ tracks: source.tracks, readSegment: reader(source.store) });
    const pieces: Uint8Array[] = [];
    const slow = again.stream().getReader();
    for (let read = await slow.read(); !read.done; read = await slow.read()) {
      pieces.push(read.value);
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(concatBytes(pieces)).toEqual(file);
    const plain = recordingMp4({ tracks: source.tracks, readSegment: reader(source.store), randomAccessIndex: false });
    const plainFile = await readAll(plain.stream());
    expect(plainFile.length).toBe(plain.contentLength);
    expect(plainFile).toEqual(file.subarray(0, plainFile.length));
    expect(await probeStreams(plainFile)).toHaveLength(2);
  });
});

describe('recording MP4: reading and limits', () => {
  let source: Recorded;

  beforeAll(async () => {
    const remuxed = remuxFlv(await makeFlv({ seconds: 9, gopFrames: 60 }));
    source = recorded(remuxed.video!, remuxed.audio!);
  });

  it('reads a segment only when the reader wants more: never more than one ahead', async () => {
    let fetched = 0;
    let delivered = 0;
    let mostAhead = 0;
    const mp4 = recordingMp4({
      tracks: source.tracks,
      readSegment: async (key) => {
        fetched += 1;
        mostAhead = Math.max(mostAhead, fetched - delivered);
        return reader(source.store)(key);
      },
      randomAccessIndex: false,
    });
    const stream = mp4.stream().getReader();
    await stream.read(); // the init segment
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fetched).toBeLessThanOrEqual(1);
    for (let read = await stream.read(); !read.done; read = await stream.read()) {
      delivered += 1;
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(delivered).toBe(source.store.size);
    expect(fetched).toBe(source.store.size);
    expect(mostAhead).toBeLessThanOrEqual(2);
  });

  it('makes any byte range of the file exactly as the whole file has it, reading only the segments the range covers', async () => {
    const whole = recordingMp4({ tracks: source.tracks, readSegment: reader(source.store) });
    const file = await readAll(whole.stream());
    const length = whole.contentLength;
    const firstSegment = source.tracks[0]!.segments[0]!;
    const initLength = file.length - [...source.store.values()].reduce((sum, bytes) => sum + bytes.length, 0) - (48 + 19 * source.tracks[0]!.segments.length);
    const ranges = [
      { offset: 0, length: 10 },
      { offset: 5, length: initLength + 100 },
      { offset: initLength + 10, length: firstSegment.bytes - 20 },
      { offset: Math.floor(length / 2), length: 300_000 },
      { offset: length - 60, length: 60 },
      { offset: length - 1, length: 1 },
      { offset: 0, length },
    ];
    for (const range of ranges) {
      let reads = 0;
      const part = recordingMp4({ tracks: source.tracks, readSegment: (key) => ((reads += 1), reader(source.store)(key)) });
      expect(await readAll(part.stream(range)), JSON.stringify(range)).toEqual(file.subarray(range.offset, range.offset + range.length));
      if (range.offset === initLength + 10) expect(reads).toBe(1);
      if (range.length === 10) expect(reads).toBe(0);
    }
    expect(() => whole.stream({ offset: length - 5, length: 6 })).toThrow(RangeError);
  });

  it('orders segments by start time across tracks', () => {
    const order = interleaveSegments([{ segments: [{ durationSeconds: 2 }, { durationSeconds: 2 }] }, { segments: [{ durationSeconds: 1.9 }, { durationSeconds: 2.1 }, { durationSeconds: 1 }] }]);
    expect(order.map((slot) => `${slot.track}:${slot.segment}`)).toEqual(['0:0', '1:0', '1:1', '0:1', '1:2']);
  });

  it('ends the file with an error, not wrong bytes, when a stored segment is not the size its recording says', async () => {
    const tracks = source.tracks.map((track) => ({ ...track, segments: track.segments.map((segment, index) => (index === 1 ? { ...segment, bytes: segment.bytes + 1 } : segment)) }));
    await expect(readAll(recordingMp4({ tracks, readSegment: reader(source.store) }).stream())).rejects.toThrow(Mp4BoxError);
  });

  it("refuses a segment whose fragments are another track's, and an init segment that is not one track", async () => {
    const [video, audio] = source.tracks as [Mp4TrackInput, Mp4TrackInput];
    const store = new Map(source.store);
    const foreign = store.get(audio.segments[0]!.key)!.slice();
    const moof = findBox(foreign, ['moof'])!;
    const tfhd = findBox(foreign, ['traf', 'tfhd'], moof.payload, moof.end)!;
    view(foreign).setUint32(tfhd.payload + 4, 7);
    store.set(audio.segments[0]!.key, foreign);
    await expect(readAll(recordingMp4({ tracks: source.tracks, readSegment: reader(store) }).stream())).rejects.toThrow(/track 7, not the init segment's 1/);
    expect(() => recordingMp4({ tracks: [video, { inits: [concatBytes([audio.inits[0]!, audio.inits[0]!])], segments: [] }], readSegment: reader(source.store) })).toThrow(Mp4BoxError);
  });
});

describe('recording MP4 of a broadcast with a reconnect (two sessions, each with its own init segment and a timeline from zero)', () => {
  let first: Recorded;
  let second: Recorded;

  beforeAll(async () => {
    const [a, b] = await Promise.all([makeFlv({ seconds: 5, gopFrames: 60 }), makeFlv({ seconds: 4, gopFrames: 60 })]);
    const [remuxedA, remuxedB] = [remuxFlv(a), remuxFlv(b)];
    first = recorded(remuxedA.video!, remuxedA.audio!);
    second = recorded(remuxedB.video!, remuxedB.audio!);
  });

  /** One recording of both sessions: the second's segments decode with the second init segment. */
  function joined(secondInits: [Uint8Array, Uint8Array]): { tracks: Mp4TrackInput[]; store: Map<string, Uint8Array> } {
    const store = new Map<string, Uint8Array>();
    const tracks = first.tracks.map((track, index) => {
      const later = second.tracks[index]!;
      const renamed = later.segments.map((segment) => ({ ...segment, key: `${segment.key}.second`, init: 1 }));
      for (const segment of track.segments) store.set(segment.key, first.store.get(segment.key)!);
      for (const [at, segment] of renamed.entries()) store.set(segment.key, second.store.get(later.segments[at]!.key)!);
      return { inits: [track.inits[0]!, secondInits[index]!], segments: [...track.segments, ...renamed] };
    });
    return { tracks, store };
  }

  it('plays as one file: the second session follows the first, every frame decodes, timestamps only go forward', async () => {
    const { tracks, store } = joined([second.tracks[0]!.inits[0]!, second.tracks[1]!.inits[0]!]);
    const mp4 = recordingMp4({ tracks, readSegment: reader(store) });
    const file = await readAll(mp4.stream());
    expect(file.length).toBe(mp4.contentLength);
    const [video] = (await probeStreams(file)) as [ProbedStream];
    const seconds = first.videoSeconds + second.videoSeconds;
    expect(Math.abs(Number(video.duration) - seconds)).toBeLessThanOrEqual(1 / 30 + 1e-6);
    const [storedA, storedB] = await Promise.all([probeStreams(first.trackBytes[0]), probeStreams(second.trackBytes[0])]);
    expect(Number(video.nb_read_frames)).toBe(Number(storedA[0]!.nb_read_frames) + Number(storedB[0]!.nb_read_frames));
    const { code, err } = await ffmpegDecodeErrors(file);
    expect(err.trim()).toBe('');
    expect(code).toBe(0);
    for (const kind of ['video', 'audio'] as const) {
      const packets = await probePackets(file, kind);
      const backwards = packets.filter((packet, index) => index > 0 && packet.dts <= packets[index - 1]!.dts);
      expect(backwards).toEqual([]);
    }
    // Same bytes: the second session's packets are the stored ones, 5 s later.
    const [inFile, stored] = await Promise.all([probePackets(file, 'video'), probePackets(second.trackBytes[0], 'video')]);
    const tail = inFile.slice(inFile.length - stored.length);
    expect(tail.map((packet) => packet.hash)).toEqual(stored.map((packet) => packet.hash));
    expect(tail[0]!.dts - stored[0]!.dts).toBeCloseTo(first.videoSeconds * 1000, 0);
  });

  it('makes a byte range inside the later session as the whole file has it', async () => {
    const { tracks, store } = joined([second.tracks[0]!.inits[0]!, second.tracks[1]!.inits[0]!]);
    const mp4 = recordingMp4({ tracks, readSegment: reader(store) });
    const file = await readAll(mp4.stream());
    const range = { offset: mp4.contentLength - 200_000, length: 150_000 };
    expect(await readAll(mp4.stream(range))).toEqual(file.subarray(range.offset, range.offset + range.length));
  });

  it('refuses, with the reason, a later session whose codec configuration differs', async () => {
    const other = remuxFlv(await makeFlv({ seconds: 2, gopFrames: 60, size: '320x180' }));
    const { tracks, store } = joined([other.video!.init, second.tracks[1]!.inits[0]!]);
    expect(() => recordingMp4({ tracks, readSegment: reader(store) })).toThrow(RecordingNotMuxable);
    expect(() => recordingMp4({ tracks, readSegment: reader(store) })).toThrow(/codec configuration or picture size/);
  });
});
