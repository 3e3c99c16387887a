/**
 * Decodes one H.264 keyframe (Annex-B) with a short-lived ffmpeg into JPEGs: the full-size picture
 * on stdout and one per fixed width on fds 3, 4, ... (one decode, scaled for each), and, when
 * asked, the same pictures as WebP on the fds after them (same decode and scale, one more encode
 * each). ffmpeg sees only this one access unit, never the stream. Killed when it overruns its time.
 */
import { execFile, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { childEnvironment } from '../memory-allocator.ts';

export interface ThumbnailPictures {
  full: Uint8Array;
  /** By width. */
  scaled: Map<number, Uint8Array>;
  /** The same pictures as WebP, when asked for (`webp`). */
  webp?: { full: Uint8Array; scaled: Map<number, Uint8Array> };
}

export interface EncodeThumbnailOptions {
  ffmpegPath: string;
  keyframe: Uint8Array;
  /** Fixed widths to make beside the full-size picture. */
  widths: readonly number[];
  /** Also WebP pictures of the same sizes. */
  webp?: boolean;
  timeoutMs: number;
}

// JPEG quality (ffmpeg's 2-31 scale, lower is better): thumbnails, not stills.
const JPEG_QUALITY = 5;
// libwebp's fastest method (0 of 0-6): 4 (its default) spends three to four times the CPU for
// files about a fifth smaller; at 0 the WebP is still about a quarter smaller than the JPEG.
const WEBP_ARGS = ['-c:v', 'libwebp', '-quality', '75', '-compression_level', '0', '-f', 'webp'];
const STDERR_LIMIT = 2_000;

/**
 * ffmpeg's arguments: one input frame, one JPEG per output (full size on pipe:1, each width on
 * pipe:3, 4, ...), then with `webp` the same sizes as WebP on the pipes after those. Pure.
 */
export function thumbnailFfmpegArgs(widths: readonly number[], options: { webp?: boolean } = {}): string[] {
  // One thread everywhere: the work is one frame, and thread pools cost more to start than it.
  const args = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-threads', '1', '-filter_threads', '1', '-f', 'h264', '-i', 'pipe:0'];
  const jpeg = ['-frames:v', '1', '-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', String(JPEG_QUALITY), '-strict', 'unofficial'];
  const webp = ['-frames:v', '1', ...WEBP_ARGS];
  if (widths.length === 0 && !options.webp) return [...args, ...jpeg, 'pipe:1'];
  // Each size once (split, then scaled); with WebP each size split again, one copy per encoder.
  const sizes = ['full', ...widths.map((_, index) => `o${index}`)];
  const graph = [
    widths.length === 0 ? '[0:v]null[full]' : `[0:v]split=${sizes.length}[full]${widths.map((_, index) => `[s${index}]`).join('')}`,
    ...widths.map((width, index) => `[s${index}]scale=${width}:-2[o${index}]`),
  ];
  if (options.webp) graph.push(...sizes.map((size) => `[${size}]split[j${size}][w${size}]`));
  args.push('-filter_complex', graph.join(';'));
  const label = (prefix: string, size: string) => (options.webp ? `[${prefix}${size}]` : `[${size}]`);
  const pipes = [1, ...widths.map((_, index) => 3 + index), ...sizes.map((_, index) => 3 + widths.length + index)];
  sizes.forEach((size, index) => args.push('-map', label('j', size), ...jpeg, `pipe:${pipes[index]}`));
  if (options.webp) sizes.forEach((size, index) => args.push('-map', label('w', size), ...webp, `pipe:${pipes[sizes.length + index]}`));
  return args;
}

export class ThumbnailEncodeError extends Error {
  override name = 'ThumbnailEncodeError';
}

export function encodeThumbnail(options: EncodeThumbnailOptions): Promise<ThumbnailPictures> {
  const { widths } = options;
  // Beside stdout: each JPEG width, then (WebP) the full size and each width.
  const extraCount = widths.length + (options.webp ? 1 + widths.length : 0);
  const extra = Array.from({ length: extraCount }, () => 'pipe' as const);
  const child = spawn(options.ffmpegPath, thumbnailFfmpegArgs(widths, { webp: options.webp }), { stdio: ['pipe', 'pipe', 'pipe', ...extra], env: childEnvironment() });
  const outputs = [child.stdout!, ...extra.map((_, index) => child.stdio[3 + index] as Readable)].map(collect);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    if (stderr.length < STDERR_LIMIT) stderr += chunk.toString();
  });
  child.stdin!.on('error', () => {});
  child.stdin!.end(options.keyframe);
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill('SIGKILL');
  }, options.timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new ThumbnailEncodeError(`ffmpeg could not start: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      void Promise.all(outputs).then(([full, ...rest]) => {
        if (timedOut) return reject(new ThumbnailEncodeError(`ffmpeg took longer than ${options.timeoutMs} ms; killed`));
        if (code !== 0 || !full || full.length === 0) {
          const why = stderr.trim().split('\n').at(-1) ?? '';
          return reject(new ThumbnailEncodeError(`ffmpeg ${signal ? `killed by ${signal}` : `exit code ${code}`}${why ? `: ${why}` : ''}${full?.length === 0 ? ' (no picture)' : ''}`));
        }
        const byWidth = (pictures: Uint8Array[]) => new Map(widths.map((width, index) => [width, pictures[index]!] as const).filter(([, bytes]) => bytes.length > 0));
        const pictures: ThumbnailPictures = { full, scaled: byWidth(rest.slice(0, widths.length)) };
        const webpFull = rest[widths.length];
        // A WebP that did not come out (an ffmpeg built without libwebp) leaves the JPEGs as they are.
        if (options.webp && webpFull && webpFull.length > 0) pictures.webp = { full: webpFull, scaled: byWidth(rest.slice(widths.length + 1)) };
        resolve(pictures);
      });
    });
  });
}

function collect(stream: Readable): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  return new Promise((resolve) => {
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('close', () => resolve(Buffer.concat(chunks)));
    stream.once('error', () => resolve(Buffer.concat(chunks)));
  });
}

/** Whether this ffmpeg lists an encoder (`ffmpeg -encoders`): a build without libwebp makes JPEGs only. */
export function ffmpegHasEncoder(ffmpegPath: string, encoder: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(ffmpegPath, ['-hide_banner', '-encoders'], { env: childEnvironment(), timeout: 10_000, maxBuffer: 4 * 1024 * 1024 }, (error, stdout) => {
      resolve(!error && new RegExp(`^\\s*\\S+\\s+${encoder}\\s`, 'm').test(stdout));
    });
  });
}
