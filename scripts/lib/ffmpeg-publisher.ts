/**
 * ffmpeg publishing over RTMP for `npm run publish:test`: its output passed through, what it
 * says kept to explain a failure, and one clean stop however many signals ask for it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';

const SETPRIV = '/usr/bin/setpriv';
// ffmpeg writes its trailer and closes the connection on "q"; these only guard against a hang.
const INTERRUPT_AFTER_MS = 5_000;
const KILL_AFTER_MS = 10_000;
const KEPT_OUTPUT_CHARS = 16_384;

export type PublishOutcome =
  /** Ran to its end (--duration), or stopped when asked. */
  | { kind: 'done' }
  /** The server said why, in an RTMP error status (ffmpeg: `Server error: <description>`). */
  | { kind: 'refused'; reason: string }
  | { kind: 'unreachable'; detail: string }
  | { kind: 'failed'; exit: string };

export class FfmpegPublisher {
  readonly finished: Promise<PublishOutcome>;
  private readonly child: ChildProcess;
  private output = '';
  private stopRequested = false;

  constructor(ffmpeg: string, args: readonly string[]) {
    // Its own process group: a Ctrl-C at the terminal does not reach it behind our back (several
    // SIGINTs made it abort mid-write, in red, or hard-exit with code 123). Where setpriv exists,
    // it still goes when we die however we die.
    const [command, commandArgs] = existsSync(SETPRIV) ? [SETPRIV, ['--pdeathsig', 'SIGTERM', '--', ffmpeg, ...args]] : [ffmpeg, [...args]];
    this.child = spawn(command, commandArgs, { stdio: ['pipe', 'inherit', 'pipe'], detached: true });
    this.child.stdin!.on('error', () => {}); // ffmpeg gone before it read "q": its exit says the rest.
    this.child.stderr!.on('data', (chunk: Buffer) => {
      process.stderr.write(chunk);
      this.output = (this.output + chunk.toString('utf8')).slice(-KEPT_OUTPUT_CHARS);
    });
    this.finished = new Promise((resolve) => {
      this.child.once('error', (error) => resolve({ kind: 'failed', exit: `could not start ffmpeg (${error.message})` }));
      this.child.once('close', (code, signal) => resolve(classifyExit(code, signal, this.output, this.stopRequested)));
    });
  }

  /** Asks ffmpeg to finish (its "q" key); later calls change nothing. */
  stop(): void {
    if (this.stopRequested) return;
    this.stopRequested = true;
    this.child.stdin!.end('q');
    const interrupt = setTimeout(() => this.signal('SIGINT'), INTERRUPT_AFTER_MS);
    const kill = setTimeout(() => this.signal('SIGKILL'), KILL_AFTER_MS);
    void this.finished.then(() => {
      clearTimeout(interrupt);
      clearTimeout(kill);
    });
  }

  private signal(signal: NodeJS.Signals): void {
    if (this.child.pid === undefined || this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // Already gone.
    }
  }
}

/** What ffmpeg's exit and its last words mean. Pure. */
export function classifyExit(code: number | null, signal: NodeJS.Signals | null, output: string, stopRequested: boolean): PublishOutcome {
  const refusal = /Server error: ([^\r\n]*)/.exec(output);
  if (refusal) return { kind: 'refused', reason: refusal[1]!.trim() };
  if (stopRequested || code === 0) return { kind: 'done' };
  const unreachable = /Connection to (\S+) failed: ([^\r\n]*)/.exec(output) ?? /(Cannot open connection [^\r\n]*)/.exec(output);
  if (unreachable) return { kind: 'unreachable', detail: unreachable[0]!.trim() };
  return { kind: 'failed', exit: signal ?? `exit code ${code}` };
}

/** One line for the person who ran it: what happened, and what to do. */
export function describeFailure(outcome: Exclude<PublishOutcome, { kind: 'done' }>, url: string): string {
  switch (outcome.kind) {
    case 'refused':
      if (/stream key/.test(outcome.reason)) {
        return `the stream key was refused (${outcome.reason}): see \`npm run streams -- list\`, and publish with --url rtmp://HOST:PORT/live/STREAM_KEY (the key \`streams add\` or \`streams rotate-key\` printed)`;
      }
      return `the sidecar refused the publish: ${outcome.reason.replace(/^publish refused: /, '')}`;
    case 'unreachable':
      return `nothing answers at ${url} (${outcome.detail}): is the sidecar running (npm start), and the URL's host and port right?`;
    case 'failed':
      return `ffmpeg stopped with ${outcome.exit}: is the sidecar running (npm start) and the URL right?`;
  }
}
