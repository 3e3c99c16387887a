/** Measuring for benchmark scripts: CPU time and memory of commands, processes and process trees; medians and percentiles. */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { jemallocMapped } from '../../ingest/memory-allocator.ts';

export interface CommandCost {
  /** User + system CPU seconds of the command and everything it started. */
  cpuSeconds: number;
  wallSeconds: number;
}

/**
 * Runs a command to completion and reports its CPU time, read from bash's `times` (the children's
 * line), which works wherever bash does: no GNU time needed.
 */
export function runMeasured(command: string, args: string[], logFile: string): Promise<CommandCost> {
  const script = '"$@" >/dev/null 2>>"$LOG_FILE"; status=$?; times; exit $status';
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', script, 'bash', command, ...args], { env: { ...process.env, LOG_FILE: logFile }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk));
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`${command} failed (exit ${code}); see ${logFile}`));
      const children = out.trim().split('\n').at(-1) ?? '';
      const times = [...children.matchAll(/(\d+)m([\d.]+)s/g)].map(([, minutes, seconds]) => Number(minutes) * 60 + Number(seconds));
      if (times.length !== 2) return reject(new Error(`unexpected output of times: ${JSON.stringify(out)}`));
      resolve({ cpuSeconds: times[0]! + times[1]!, wallSeconds: (performance.now() - started) / 1000 });
    });
  });
}

// Linux reports process times in clock ticks of 1/100 s on every platform Node runs on here.
const CLOCK_TICKS_PER_SECOND = 100;

/** CPU seconds a live process has used so far (Linux /proc). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
}

/** A memory line of a live process's /proc status (`VmRSS`, `RssAnon`), bytes; 0 when absent. */
function statusBytes(pid: number, field: string): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
}

/** Resident memory of a live process, bytes. */
export function processRssBytes(pid: number): number {
  return statusBytes(pid, 'VmRSS');
}

/** The anonymous part of a live process's resident memory (heap, stacks, buffers: not code or files), bytes. */
export function processAnonymousRssBytes(pid: number): number {
  return statusBytes(pid, 'RssAnon');
}

/** The Node flags a Node process runs with (from its command line: what it was started or restarted with). */
export function processNodeFlags(pid: number): string[] {
  const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(1);
  return args.slice(0, Math.max(0, args.findIndex((arg) => !arg.startsWith('-'))));
}

/** Which malloc a process runs on: jemalloc when the library is mapped into it. */
export function processAllocator(pid: number): 'jemalloc' | 'C library malloc' {
  return jemallocMapped(pid) ? 'jemalloc' : 'C library malloc';
}

/** Least-squares slope of [milliseconds, value] points, per minute; NaN with fewer than two. */
export function slopePerMinute(points: ReadonlyArray<readonly [number, number]>): number {
  if (points.length < 2) return Number.NaN;
  const meanX = points.reduce((sum, [x]) => sum + x, 0) / points.length;
  const meanY = points.reduce((sum, [, y]) => sum + y, 0) / points.length;
  const covariance = points.reduce((sum, [x, y]) => sum + (x - meanX) * (y - meanY), 0);
  const variance = points.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0);
  return variance === 0 ? Number.NaN : (covariance / variance) * 60_000;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** Samples a process's resident memory until stopped, keeping the peak. */
export class RssSampler {
  private readonly timer: NodeJS.Timeout;
  private peakBytes = 0;
  private lastBytes = 0;

  constructor(pid: number, intervalMs = 100) {
    const sample = () => {
      try {
        this.lastBytes = processRssBytes(pid);
        this.peakBytes = Math.max(this.peakBytes, this.lastBytes);
      } catch {
        // The process is gone: the peak stands.
      }
    };
    sample();
    this.timer = setInterval(sample, intervalMs);
  }

  get peak(): number {
    return this.peakBytes;
  }

  get last(): number {
    return this.lastBytes;
  }

  /** Starts a new peak from now on (after a warm-up, say). */
  resetPeak(): void {
    this.peakBytes = this.lastBytes;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** The live processes under `rootPid` (itself included), from Linux /proc. */
export function processTree(rootPid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(parent, [...(parents.get(parent) ?? []), Number(entry)]);
    } catch {
      // Gone while listing.
    }
  }
  const tree: number[] = [];
  const queue = [rootPid];
  while (queue.length > 0) {
    const pid = queue.shift()!;
    tree.push(pid);
    queue.push(...(parents.get(pid) ?? []));
  }
  return tree;
}

/**
 * CPU seconds a process tree has used so far: every live member's own time plus what it
 * collected from children it waited for (so a child that exited still counts, once).
 */
export function treeCpuSeconds(rootPid: number): number {
  let total = 0;
  for (const pid of processTree(rootPid)) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      // utime, stime, cutime, cstime: fields 14-17 of stat, 12-15 after the command name.
      total += [11, 12, 13, 14].reduce((sum, index) => sum + Number(fields[index]), 0) / CLOCK_TICKS_PER_SECOND;
    } catch {
      // Exited between listing and reading: its time is in its parent's now.
    }
  }
  return total;
}

/** Resident memory of a process tree, bytes (shared pages count once per process). */
export function treeRssBytes(rootPid: number): number {
  return processTree(rootPid).reduce((sum, pid) => {
    try {
      return sum + processRssBytes(pid);
    } catch {
      return sum;
    }
  }, 0);
}

/** The value below which `fraction` (0-1) of the values lie (nearest rank). */
export function percentile(values: readonly number[], fraction: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))]!;
}
