/**
 * Many hostile RTMP connections in waves, from many loopback source addresses, a bounded number
 * in flight: what the hostile-RTMP test and load script fire at a sidecar.
 */
import { HOSTILE_KINDS, runHostileConnection, type HostileOutcome } from './hostile-rtmp.ts';

export interface HostileWavesOptions {
  host: string;
  port: number;
  connections: number;
  waveSize: number;
  /** Connections open at once at most (a wave waits for room). */
  maxInFlight: number;
  /** A connection still open this long after it started is closed by us and counted as held. */
  giveUpMs: number;
  kinds?: readonly string[];
  /** Loopback sources the connections are spread over (127.0.1.1 upwards). */
  sources: number;
  /** Every this many connections, one comes from a single extra address (to meet the per-address limit). */
  floodEvery?: number;
  onWave?(progress: WaveProgress): void;
}

export interface KindTally {
  started: number;
  closedByServer: number;
  /** Still open when we gave up. */
  held: number;
  connectFailed: number;
  slowestMs: number;
}

export interface WaveProgress {
  wave: number;
  waves: number;
  /** Connections that have ended so far, and that are still open. */
  done: number;
  inFlight: number;
  tally: Record<string, KindTally>;
}

/** The single source of the flood share: all of it should meet the per-address limit. */
export const FLOOD_SOURCE = '127.0.0.2';

export function sourceAddress(index: number, options: Pick<HostileWavesOptions, 'sources' | 'floodEvery'>): string {
  if (options.floodEvery && index % options.floodEvery === 0) return FLOOD_SOURCE;
  const n = index % options.sources;
  return `127.0.${1 + Math.floor(n / 250)}.${1 + (n % 250)}`;
}

/**
 * Launches the connections wave by wave (a wave does not wait for the previous one's slow
 * connections, only for room under maxInFlight) and resolves when every one has ended.
 */
export async function runHostileWaves(options: HostileWavesOptions): Promise<Record<string, KindTally>> {
  const kinds = options.kinds ?? HOSTILE_KINDS;
  const tally: Record<string, KindTally> = Object.fromEntries(kinds.map((kind) => [kind, { started: 0, closedByServer: 0, held: 0, connectFailed: 0, slowestMs: 0 }]));
  const waves = Math.ceil(options.connections / options.waveSize);
  const all: Promise<void>[] = [];
  let inFlight = 0;
  let done = 0;
  let roomFreed: (() => void) | undefined;
  const record = (outcome: HostileOutcome) => {
    const entry = tally[outcome.kind]!;
    if (outcome.connectFailed) entry.connectFailed += 1;
    else if (outcome.closedByServer) entry.closedByServer += 1;
    else entry.held += 1;
    entry.slowestMs = Math.max(entry.slowestMs, outcome.milliseconds);
    done += 1;
    inFlight -= 1;
    roomFreed?.();
    roomFreed = undefined;
  };
  for (let wave = 0; wave < waves; wave++) {
    const first = wave * options.waveSize;
    for (let index = first; index < Math.min(first + options.waveSize, options.connections); index++) {
      while (inFlight >= options.maxInFlight) await new Promise<void>((resolve) => (roomFreed = resolve));
      const kind = kinds[index % kinds.length]!;
      tally[kind]!.started += 1;
      inFlight += 1;
      const target = { host: options.host, port: options.port, localAddress: sourceAddress(index, options) };
      all.push(runHostileConnection(kind, target, options.giveUpMs).then(record));
    }
    options.onWave?.({ wave: wave + 1, waves, done, inFlight, tally });
  }
  await Promise.all(all);
  return tally;
}
