/** The sidecar's thumbnails from a real H.264 FLV, made by real ffmpeg, stored in a memory store. */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { locateFfmpeg } from '../../../ingest/transcode/ffmpeg-binary.ts';
import { keyframeAnnexB } from '../../../ingest/thumbnails/annex-b.ts';
import { KeyframeTap } from '../../../ingest/thumbnails/keyframe-tap.ts';
import { encodeThumbnail, ffmpegHasEncoder, thumbnailFfmpegArgs } from '../../../ingest/thumbnails/thumbnail-encoder.ts';
import { Thumbnails } from '../../../ingest/thumbnails/stream-thumbnails.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import { readJpegFacts } from '../../../shared/thumbnail/jpeg-facts.ts';
import { runFfprobe } from '../../helpers/ffprobe.ts';
import { makeFlv } from '../../helpers/media-fixtures.ts';
import { writeFlv } from '../../helpers/flv-synth.ts';

async function pictureSize(jpeg: Uint8Array): Promise<string> {
  const { code, out, err } = await runFfprobe(['-v', 'error', '-show_entries', 'stream=codec_name,width,height', '-of', 'csv=p=0', '-i', 'pipe:0'], jpeg);
  if (code !== 0) throw new Error(`ffprobe: ${err}`);
  return out.trim();
}

/** The FLV in tag-sized pieces, as node-media-server hands them to the sidecar. */
function pieces(flv: Buffer): Buffer[] {
  const out = [flv.subarray(0, 13)];
  for (let offset = 13; offset < flv.length; ) {
    const size = flv.readUIntBE(offset + 1, 3);
    out.push(flv.subarray(offset, offset + 11 + size + 4));
    offset += 11 + size + 4;
  }
  return out;
}

describe('thumbnails from keyframes', () => {
  it('builds ffmpeg arguments for the full picture and each width', () => {
    expect(thumbnailFfmpegArgs([])).not.toContain('-filter_complex');
    const args = thumbnailFfmpegArgs([320, 640]);
    expect(args[args.indexOf('-filter_complex') + 1]).toBe('[0:v]split=3[full][s0][s1];[s0]scale=320:-2[o0];[s1]scale=640:-2[o1]');
    expect(args.filter((arg) => /^pipe:[134]$/.test(arg))).toEqual(['pipe:1', 'pipe:3', 'pipe:4']);
    expect(args.filter((arg) => arg === '-frames:v')).toHaveLength(3);
    // With WebP: each size decoded and scaled once, split between the two encoders; WebPs on the pipes after the JPEGs.
    const both = thumbnailFfmpegArgs([320, 640], { webp: true });
    expect(both[both.indexOf('-filter_complex') + 1]).toBe(
      '[0:v]split=3[full][s0][s1];[s0]scale=320:-2[o0];[s1]scale=640:-2[o1];[full]split[jfull][wfull];[o0]split[jo0][wo0];[o1]split[jo1][wo1]',
    );
    expect(both.filter((arg, index) => arg.startsWith('pipe:') && both[index - 1] !== '-i')).toEqual(['pipe:1', 'pipe:3', 'pipe:4', 'pipe:5', 'pipe:6', 'pipe:7']);
    expect(both.filter((arg) => arg === 'libwebp')).toHaveLength(3);
    const fullOnly = thumbnailFfmpegArgs([], { webp: true });
    expect(fullOnly[fullOnly.indexOf('-filter_complex') + 1]).toBe('[0:v]null[full];[full]split[jfull][wfull]');
  });

  it('taps one keyframe as Annex-B that ffmpeg decodes to JPEGs of the source size and each width', async () => {
    const flv = await makeFlv({ seconds: 3, gopFrames: 30, size: '1280x720' });
    const taken: Uint8Array[] = [];
    let wanted = true;
    const problems: string[] = [];
    const tap = new KeyframeTap({
      wanted: () => wanted,
      onKeyframe: (annexB, picture) => {
        expect(picture).toMatchObject({ width: 1280, height: 720 });
        taken.push(annexB);
        wanted = false;
      },
      onProblem: (message) => problems.push(message),
    });
    for (const piece of pieces(flv)) tap.write(piece);
    expect(problems).toEqual([]);
    expect(taken).toHaveLength(1);
    // Start code, then the SPS (NAL type 7) first.
    expect([...taken[0]!.subarray(0, 5)]).toEqual([0, 0, 0, 1, 0x67]);
    const pictures = await encodeThumbnail({ ffmpegPath: locateFfmpeg(), keyframe: taken[0]!, widths: [320, 640], timeoutMs: 10_000 });
    expect(await pictureSize(pictures.full)).toBe('mjpeg,1280,720');
    expect(await pictureSize(pictures.scaled.get(320)!)).toBe('mjpeg,320,180');
    expect(await pictureSize(pictures.scaled.get(640)!)).toBe('mjpeg,640,360');
    expect(pictures.webp).toBeUndefined();
    // Debian's ffmpeg has libwebp: the same sizes as WebP from the same decode.
    const both = await encodeThumbnail({ ffmpegPath: locateFfmpeg(), keyframe: taken[0]!, widths: [320], webp: true, timeoutMs: 10_000 });
    expect(await pictureSize(both.full)).toBe('mjpeg,1280,720');
    expect(await pictureSize(both.webp!.full)).toBe('webp,1280,720');
    expect(await pictureSize(both.webp!.scaled.get(320)!)).toBe('webp,320,180');
    expect(both.webp!.full.length).toBeLessThan(both.full.length);
    expect(await ffmpegHasEncoder(locateFfmpeg(), 'libwebp')).toBe(true);
    expect(await ffmpegHasEncoder(locateFfmpeg(), 'no-such-encoder')).toBe(false);
  });

  it('kills an ffmpeg that overruns its time, and reports garbage as a failure', async () => {
    const garbage = new Uint8Array(1000).fill(7);
    await expect(encodeThumbnail({ ffmpegPath: locateFfmpeg(), keyframe: garbage, widths: [], timeoutMs: 10_000 })).rejects.toThrow(/ffmpeg/);
    await expect(encodeThumbnail({ ffmpegPath: locateFfmpeg(), keyframe: garbage, widths: [], timeoutMs: 1 })).rejects.toThrow(/longer than 1 ms; killed/);
  });

  it('says once that a source is not H.264, and again only after a new FLV stream begins', () => {
    const problems: string[] = [];
    const tap = new KeyframeTap({ wanted: () => true, onKeyframe: () => problems.push('taken'), onProblem: (message) => problems.push(message) });
    const header = Buffer.from([0x46, 0x4c, 0x56, 1, 1, 0, 0, 0, 9, 0, 0, 0, 0]);
    // Enhanced-RTMP HEVC keyframes (0x90: keyframe, packet type 0; FourCC hvc1), as tags.
    const hevc = writeFlv([1, 2, 3].map((i) => ({ type: 9, timestamp: i * 1000, data: new Uint8Array([0x91, 0x68, 0x76, 0x63, 0x31, 0, 0, 0, 1]) }))).subarray(13);
    tap.write(header);
    tap.write(hevc);
    expect(problems).toEqual(['the source video is not H.264: no thumbnails for it']);
    tap.write(header);
    tap.write(hevc);
    expect(problems).toHaveLength(2);
  });

  it('refuses an access unit whose NAL lengths run past its end', () => {
    const record = new Uint8Array([1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 2, 0x67, 0x64, 1, 0, 2, 0x68, 0xee]);
    expect(() => keyframeAnnexB(record, new Uint8Array([0, 0, 0, 9, 0x65]))).toThrow(/longer than its access unit/);
    expect([...keyframeAnnexB(record, new Uint8Array([0, 0, 0, 1, 0x65]))]).toEqual([0, 0, 0, 1, 0x67, 0x64, 0, 0, 0, 1, 0x68, 0xee, 0, 0, 0, 1, 0x65]);
  });

  it('stores the full picture and the widths with the capture time, once per interval; a failure never throws into the stream', async () => {
    const flv = await makeFlv({ seconds: 4, gopFrames: 30, size: '640x360' });
    const store = new MemoryObjectStore();
    const stored: string[] = [];
    const put = store.put.bind(store);
    store.put = (key, ...rest) => (stored.push(key.slice('streams/colors/'.length)), put(key, ...rest));
    const clock = { now: 1_765_000_000_000 };
    const thumbnails = new Thumbnails({ ffmpegPath: locateFfmpeg(), now: () => clock.now });
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const stream = thumbnails.forStream({ playbackId: 'colors', store, log });
    // Four seconds of media in one go: one thumbnail (the interval has not passed).
    for (const piece of pieces(flv)) stream.write(piece);
    await expect.poll(async () => store.head('streams/colors/thumbnail.jpg'), { timeout: 10_000 }).not.toBeNull();
    const full = new Uint8Array(await new Response((await store.get('streams/colors/thumbnail.jpg'))!.body).arrayBuffer());
    expect(readJpegFacts(full)).toEqual({ width: 640, height: 360, capturedAt: 1_765_000_000_000 });
    expect(await pictureSize(full)).toBe('mjpeg,640,360');
    const small = new Uint8Array(await new Response((await store.get('streams/colors/thumbnail-320.jpg'))!.body).arrayBuffer());
    expect(readJpegFacts(small)).toMatchObject({ width: 320, height: 180, capturedAt: 1_765_000_000_000 });
    // 640 is not narrower than the source: not stored.
    expect(await store.head('streams/colors/thumbnail-640.jpg')).toBeNull();
    // The WebPs beside them (this ffmpeg has libwebp), stored first and the full JPEG last: the
    // edge reads the full JPEG first, so any picture it reads after it is never older.
    expect(stored).toEqual(['thumbnail-320.webp', 'thumbnail.webp', 'thumbnail-320.jpg', 'thumbnail.jpg']);
    expect(await pictureSize(new Uint8Array(await new Response((await store.get('streams/colors/thumbnail.webp'))!.body).arrayBuffer()))).toBe('webp,640,360');
    expect(await pictureSize(new Uint8Array(await new Response((await store.get('streams/colors/thumbnail-320.webp'))!.body).arrayBuffer()))).toBe('webp,320,180');
    expect((await store.head('streams/colors/thumbnail.webp'))!.contentType).toBe('image/webp');
    expect(thumbnails.scheduler.busy).toBe(0);
    // Ten seconds later, the next keyframe makes the next one.
    clock.now += 10_000;
    for (const piece of pieces(flv)) stream.write(piece);
    await expect.poll(async () => readJpegFacts(new Uint8Array(await new Response((await store.get('streams/colors/thumbnail.jpg'))!.body).arrayBuffer()))?.capturedAt, { timeout: 10_000 }).toBe(1_765_000_010_000);
    // A stream whose FLV is garbage: logged, not thrown.
    const broken = thumbnails.forStream({ playbackId: 'broken', store, log });
    expect(() => broken.write(Buffer.from('FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff'))).not.toThrow();
    stream.end();
    expect(lines.join('')).toMatch(/thumbnail: unreadable FLV/);
  }, 30_000);
});
