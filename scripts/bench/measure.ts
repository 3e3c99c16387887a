/** Measuring for benchmark scripts: CPU time of a command and of a running process, medians. */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

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

/** Resident memory of a live process, bytes. */
export function processRssBytes(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : 0;
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
