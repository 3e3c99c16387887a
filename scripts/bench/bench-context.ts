/** What every benchmark stage is given: tools, settings, the servers under test, a clock that can be cut short. */
import type { NginxPeer } from './nginx-peer.ts';
import type { OurEdge, OurSidecar } from './our-platform.ts';

export interface ServersUnderTest {
  ours: { edge: OurEdge; sidecar: OurSidecar };
  nginx: NginxPeer;
}

export interface Stoppable {
  stop(): Promise<void>;
}

export interface BenchContext {
  ffmpeg: string;
  /** A temporary directory of this bench run (removed at the end). */
  work: string;
  /** Milliseconds since the Unix epoch that burnt-in clocks count from. */
  epochMs: number;
  runs: number;
  /** Seconds measured per run (after start-up). */
  seconds: number;
  long: boolean;
  /** Aborted at the stage's time limit and on Ctrl-C: every wait of a stage ends with it. */
  signal: AbortSignal;
  status(line: string): void;
  /** Registers something to stop if the bench is interrupted; returns it. */
  track<T extends Stoppable>(resource: T): T;
  untrack(resource: Stoppable): void;
  /** Our platform (edge + sidecar with the default ladder) and nginx, started once and shared. */
  servers(): Promise<ServersUnderTest>;
  /** The 720p30/1080p30 H.264+AAC FLV source (2 s keyframes) of `seconds`, made once. */
  sourceFile(height: number): Promise<string>;
}

/** Waits `ms`, or rejects when `signal` aborts. */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Polls `check` every `everyMs` until it returns a value; rejects after `timeoutMs` or on abort. */
export async function waitFor<T>(what: string, timeoutMs: number, everyMs: number, signal: AbortSignal, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await pause(everyMs, signal);
  }
}

/** A GET that answers 200 with a body, else undefined (a playlist not there yet). */
export async function fetchText(url: string, timeoutMs = 2000): Promise<string | undefined> {
  const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  if (!response.ok) {
    await response.body?.cancel();
    return undefined;
  }
  return response.text();
}
