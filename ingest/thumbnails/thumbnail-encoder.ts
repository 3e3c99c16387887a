/**
 * Decodes one H.264 keyframe (Annex-B) with a short-lived ffmpeg into JPEGs: the full-size picture
 * on stdout and one per fixed width on fds 3, 4, ... (one decode, scaled for each). ffmpeg sees
 * only this one access unit, never the stream. Killed when it overruns its time.
 */
import { spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { childEnvironment } from '../memory-allocator.ts';

export interface ThumbnailPictures {
  full: Uint8Array;
  /** By width. */
  scaled: Map<number, Uint8Array>;
}

export interface EncodeThumbnailOptions {
  ffmpegPath: string;
  keyframe: Uint8Array;
  /** Fixed widths to make beside the full-size picture. */
  widths: readonly number[];
  timeoutMs: number;
}

// JPEG quality (ffmpeg's 2-31 scale, lower is better): thumbnails, not stills.
const JPEG_QUALITY = 5;
const STDERR_LIMIT = 2_000;

/** ffmpeg's arguments: one input frame, one JPEG per output. Pure. */
export function thumbnailFfmpegArgs(widths: readonly number[]): string[] {
  // One thread everywhere: the work is one frame, and thread pools cost more to start than it.
  const args = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-threads', '1', '-filter_threads', '1', '-f', 'h264', '-i', 'pipe:0'];
  const jpeg = ['-frames:v', '1', '-f', 'image2pipe', '-c:v', 'mjpeg', '-q:v', String(JPEG_QUALITY), '-strict', 'unofficial'];
  if (widths.length === 0) return [...args, ...jpeg, 'pipe:1'];
  const labels = ['full', ...widths.map((_, index) => `s${index}`)];
  const scales = widths.map((width, index) => `[s${index}]scale=${width}:-2[o${index}]`);
  args.push('-filter_complex', [`[0:v]split=${labels.length}${labels.map((label) => `[${label}]`).join('')}`, ...scales].join(';'));
  args.push('-map', '[full]', ...jpeg, 'pipe:1');
  widths.forEach((_, index) => args.push('-map', `[o${index}]`, ...jpeg, `pipe:${3 + index}`));
  return args;
}

export class ThumbnailEncodeError extends Error {
  override name = 'ThumbnailEncodeError';
}

export function encodeThumbnail(options: EncodeThumbnailOptions): Promise<ThumbnailPictures> {
  const extra = options.widths.map(() => 'pipe' as const);
  const child = spawn(options.ffmpegPath, thumbnailFfmpegArgs(options.widths), { stdio: ['pipe', 'pipe', 'pipe', ...extra], env: childEnvironment() });
  const outputs = [child.stdout!, ...options.widths.map((_, index) => child.stdio[3 + index] as Readable)].map(collect);
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
      void Promise.all(outputs).then(([full, ...scaled]) => {
        if (timedOut) return reject(new ThumbnailEncodeError(`ffmpeg took longer than ${options.timeoutMs} ms; killed`));
        if (code !== 0 || !full || full.length === 0) {
          const why = stderr.trim().split('\n').at(-1) ?? '';
          return reject(new ThumbnailEncodeError(`ffmpeg ${signal ? `killed by ${signal}` : `exit code ${code}`}${why ? `: ${why}` : ''}${full?.length === 0 ? ' (no picture)' : ''}`));
        }
        resolve({ full, scaled: new Map(options.widths.map((width, index) => [width, scaled[index]!] as const).filter(([, bytes]) => bytes.length > 0)) });
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
