/** One running ffmpeg: FLV written to its stdin, one readable CMAF output per rendition. */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { createInterface } from 'node:readline';
import { childEnvironment } from '../memory-allocator.ts';

export interface FfmpegExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines ffmpeg wrote to stderr: the reason, when it failed. */
  stderrTail: string[];
}

export interface FfmpegProcessOptions {
  binary: string;
  args: string[];
  outputCount: number;
  onStderrLine?: (line: string) => void;
}

const STDERR_TAIL_LINES = 20;

export class FfmpegProcess {
  readonly input: Writable;
  readonly outputs: Readable[];
  readonly exited: Promise<FfmpegExit>;
  private readonly child: ChildProcess;

  constructor(options: FfmpegProcessOptions) {
    const outputPipes = Array.from({ length: options.outputCount }, () => 'pipe' as const);
    this.child = spawn(options.binary, options.args, { stdio: ['pipe', 'ignore', 'pipe', ...outputPipes], env: childEnvironment() });
    this.input = this.child.stdin!;
    // A publisher that outlives ffmpeg must not crash the sidecar with EPIPE.
    this.input.on('error', () => {});
    this.outputs = outputPipes.map((_, index) => this.child.stdio[3 + index] as Readable);

    const stderrTail: string[] = [];
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      stderrTail.push(line);
      if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
      options.onStderrLine?.(line);
    });
    this.exited = new Promise((resolve) => {
      this.child.once('error', (error) => {
        stderrTail.push(String(error));
        resolve({ code: null, signal: null, stderrTail });
      });
      this.child.once('close', (code, signal) => resolve({ code, signal, stderrTail }));
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Ends the input: ffmpeg flushes what it has and exits. */
  endInput(): void {
    this.input.end();
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child.kill(signal);
  }
}
