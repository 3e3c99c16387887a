/** A publisher as users run one: ffmpeg sending a test pattern over RTMP(S) in real time. */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { locateFfmpeg } from '../../ingest/transcode/ffmpeg-binary.ts';
import { fileCopyPublishArgs, testPatternPublishArgs } from '../../scripts/lib/ffmpeg-args.ts';

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
  return spawnPublisher(fileCopyPublishArgs(file, url));
}

export function publishTestPattern(url: string, seconds: number, size = '640x360'): TestPublisher {
  return spawnPublisher(testPatternPublishArgs(url, { size, seconds }));
}

const PUBLISHER_QUIT_MS = 10_000;

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
      if (child.exitCode === null && child.signalCode === null) {
        child.stdin!.end('q');
        // An ffmpeg that does not read its q (blocked on a write to a server that stopped reading) is killed.
        const killer = setTimeout(() => child.kill('SIGKILL'), PUBLISHER_QUIT_MS);
        void exited.then(() => clearTimeout(killer));
      }
      return exited;
    },
  };
}
