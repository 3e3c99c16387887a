/** A publisher as users run one: ffmpeg sending a test pattern over RTMP(S) in real time. */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { locateFfmpeg } from '../../ingest/transcode/ffmpeg-binary.ts';

export interface TestPublisher {
  process: ChildProcess;
  exited: Promise<number | null>;
  /** What ffmpeg printed (its errors name the URL, which may hold a stream key: kept out of logs). */
  stderr(): string;
  /** Stops publishing the way a user does (q / Ctrl-C): ffmpeg closes the RTMP session. */
  stop(): Promise<number | null>;
}

/**
 * Publishes FLV bytes in real time without re-encoding them (a tall or odd source costs the test
 * machine nothing), through `file`, where they are written first.
 */
export function publishFile(url: string, flv: Uint8Array, file: string): TestPublisher {
  writeFileSync(file, flv);
  return spawnPublisher(['-hide_banner', '-loglevel', 'error', '-re', '-i', file, '-c', 'copy', '-f', 'flv', url]);
}

/** The test pattern's inputs, in real time (`-re`): also what a plain reference stream encodes (reference-stream.ts). */
export function testPatternInputArgs(size: string): string[] {
  return ['-re', '-f', 'lavfi', '-i', `testsrc2=size=${size}:rate=30`, '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000'];
}

/** How the test pattern is encoded: keyframes every 2 s (60 frames), so our ladder passes the source through. */
export function testPatternEncodeArgs(): string[] {
  return ['-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', '60', '-pix_fmt', 'yuv420p', '-c:a', 'aac'];
}

export function publishTestPattern(url: string, seconds: number, size = '640x360'): TestPublisher {
  return spawnPublisher(['-hide_banner', '-loglevel', 'error', ...testPatternInputArgs(size), '-t', String(seconds), ...testPatternEncodeArgs(), '-f', 'flv', url]);
}

function spawnPublisher(args: string[]): TestPublisher {
  const child = spawn(locateFfmpeg(), args, { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk));
  child.stdin!.on('error', () => {});
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  return {
    process: child,
    exited,
    stderr: () => stderr,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.stdin!.end('q');
      return exited;
    },
  };
}
