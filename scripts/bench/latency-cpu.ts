/**
 * Who had the CPU while a latency probe ran: the machine's idle share (/proc/stat) and process
 * trees' CPU, sampled over a window. A request waiting for its first byte on a machine with no
 * idle CPU is waiting for a core, not for the platform's logic: these say which it was.
 */
import { readFileSync } from 'node:fs';
import { processTree, treeCpuSeconds } from './measure.ts';

const CLOCK_TICKS_PER_SECOND = 100;

/** The machine's CPU counters (ticks, all cores): idle (idle + iowait) and total. */
export function machineTicks(): { idle: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { idle: fields[3]! + fields[4]!, total: fields.reduce((sum, value) => sum + value, 0) };
}

/** CPU seconds of this process's descendants whose command starts with `name` (e.g. Chromium's processes, which are not one tree's root we hold). */
export function descendantsCpuSeconds(name: string): number {
  return processTree(process.pid).reduce((sum, pid) => {
    try {
      if (!readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith(name)) return sum;
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return sum + (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
    } catch {
      return sum;
    }
  }, 0);
}

export interface CpuReading {
  at: number;
  idle: number;
  total: number;
  /** CPU seconds so far of each named source. */
  seconds: Record<string, number>;
}

/** Samples every `everyMs` until stopped; `window(from, to)` says, for that span, the machine's idle share and each source's share of one core. */
export function sampleCpu(sources: Record<string, () => number>, everyMs = 250) {
  const readings: CpuReading[] = [];
  const read = () => readings.push({ at: Date.now(), ...machineTicks(), seconds: Object.fromEntries(Object.entries(sources).map(([name, cpu]) => [name, cpu()])) });
  read();
  const timer = setInterval(read, everyMs);
  return {
    stop: () => clearInterval(timer),
    window(from: number, to: number): string {
      const inside = readings.filter((reading) => reading.at >= from && reading.at <= to);
      if (inside.length < 2) return 'no CPU samples';
      const first = inside[0]!;
      const last = inside.at(-1)!;
      const seconds = (last.at - first.at) / 1000;
      const shares = Object.keys(sources).map((name) => `${name} ${(((last.seconds[name]! - first.seconds[name]!) / seconds) * 100).toFixed(0)} %`);
      return `machine idle ${(((last.idle - first.idle) / Math.max(1, last.total - first.total)) * 100).toFixed(0)} %; of one core: ${shares.join(', ')}`;
    },
  };
}

/** The CPU sources of a latency probe: the edge's and the sidecar's process trees (its ffmpeg too), and Chromium. */
export function platformCpuSources(edgePid: number, sidecarPid: number): Record<string, () => number> {
  return { edge: () => treeCpuSeconds(edgePid), sidecar: () => treeCpuSeconds(sidecarPid), chromium: () => descendantsCpuSeconds('chrom') };
}
