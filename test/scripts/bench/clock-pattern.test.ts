import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { locateFfmpeg } from '../../../ingest/transcode/ffmpeg-binary.ts';
import {
  CLOCK_LAYOUT,
  clockBits,
  clockCellBrightness,
  clockCellRect,
  clockFilter,
  decodeClockCells,
  unwrapClockValue,
  type ClockLayout,
} from '../../../scripts/bench/clock-pattern.ts';

/** Paints the boxes of `value` into an RGBA frame of the given size (a mid-grey picture below them). */
function paintFrame(value: number, width: number, height: number, layout: ClockLayout = CLOCK_LAYOUT): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(width * height * 4).fill(128);
  clockBits(value).forEach((bit, index) => {
    const { x, y, w, h } = clockCellRect(layout, index, width, height);
    for (let row = y; row < y + h; row++) {
      for (let column = x; column < x + w; column++) rgba.fill(bit ? 255 : 0, (row * width + column) * 4, (row * width + column) * 4 + 3);
    }
  });
  return rgba;
}

/** Adds deterministic noise of up to ±amplitude to every channel. */
function withNoise(rgba: Uint8ClampedArray, amplitude: number): Uint8ClampedArray {
  let seed = 12345;
  return rgba.map((channel) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return channel + ((seed / 2 ** 31) * 2 - 1) * amplitude;
  });
}

/** Nearest-neighbour scaling of an RGBA frame. */
function scaled(rgba: Uint8ClampedArray, width: number, height: number, toWidth: number, toHeight: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(toWidth * toHeight * 4);
  for (let y = 0; y < toHeight; y++) {
    for (let x = 0; x < toWidth; x++) {
      const from = (Math.floor((y * height) / toHeight) * width + Math.floor((x * width) / toWidth)) * 4;
      out.set(rgba.subarray(from, from + 4), (y * toWidth + x) * 4);
    }
  }
  return out;
}

describe('clock pattern', () => {
  it.each([
    { name: 'zero', value: 0 },
    { name: 'one', value: 1 },
    { name: 'a typical bench time (an hour in)', value: 3_600_123 },
    { name: 'the largest 24-bit value', value: 2 ** 24 - 1 },
  ])('reads back $name from a clean frame', ({ value }) => {
    const frame = paintFrame(value, 1280, 720);
    expect(decodeClockCells(clockCellBrightness(frame, 1280, 720, CLOCK_LAYOUT))).toBe(value);
  });

  it.each([
    { name: '720p to 360p', width: 640, height: 360 },
    { name: '720p to an odd size', width: 427, height: 240 },
    { name: '720p to 1080p', width: 1920, height: 1080 },
  ])('survives scaling ($name) and noise', ({ width, height }) => {
    const frame = withNoise(scaled(paintFrame(987_654, 1280, 720), 1280, 720, width, height), 40);
    expect(decodeClockCells(clockCellBrightness(frame, width, height, CLOCK_LAYOUT))).toBe(987_654);
  });

  it('rejects a frame with a grey (unreadable) box instead of guessing', () => {
    const cells: number[] = clockBits(42).map((bit) => (bit ? 250 : 5));
    cells[3] = 128;
    expect(decodeClockCells(cells)).toBeNull();
  });

  it('rejects a frame whose checksum does not match (a flipped box)', () => {
    const cells: number[] = clockBits(42).map((bit) => (bit ? 250 : 5));
    cells[20] = cells[20]! > 128 ? 5 : 250;
    expect(decodeClockCells(cells)).toBeNull();
  });

  it('rejects a frame without the pattern (a picture of one colour)', () => {
    expect(decodeClockCells(new Array(32).fill(16))).toBeNull();
    expect(decodeClockCells(new Array(32).fill(235))).toBeNull();
  });

  it('places a wrapped 24-bit value next to the time it was read', () => {
    const epoch = 1_000_000;
    expect(unwrapClockValue(5_000, epoch, epoch + 5_300)).toBe(epoch + 5_000);
    // Read 4.66 h + 2 s after the epoch: the value wrapped once.
    expect(unwrapClockValue(1_000, epoch, epoch + 2 ** 24 + 1_500)).toBe(epoch + 2 ** 24 + 1_000);
  });

  it('is drawn by ffmpeg as the decoder reads it, through x264 at a low bitrate and scaled to 360p', async () => {
    const epochMs = 1_764_000_000_000;
    const captureMs = epochMs + 1_234_567;
    const filter = `${clockFilter({ layout: CLOCK_LAYOUT, epochMs, captureTimeMicros: String(captureMs * 1000 + 400), frameRate: 30 })},scale=640:360`;
    // Encode one frame of the pattern over a busy picture with x264 at a low bitrate, decode it to RGBA.
    const encoded = await runFfmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=1280x720:rate=30', '-frames:v', '1', '-vf', filter, '-c:v', 'libx264', '-b:v', '300k', '-f', 'h264', 'pipe:1']);
    const rgba = await runFfmpeg(['-f', 'h264', '-i', 'pipe:0', '-f', 'rawvideo', '-pix_fmt', 'rgba', 'pipe:1'], encoded);
    expect(rgba.length).toBe(640 * 360 * 4);
    expect(decodeClockCells(clockCellBrightness(rgba, 640, 360, CLOCK_LAYOUT))).toBe(1_234_567);
  });
});

function runFfmpeg(args: string[], input?: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(locateFfmpeg(), ['-hide_banner', '-loglevel', 'error', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk));
    child.on('close', (code) => (code === 0 ? resolve(Buffer.concat(out)) : reject(new Error(`ffmpeg exit ${code}: ${err}`))));
    child.stdin.end(input);
  });
}
