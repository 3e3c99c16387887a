/**
 * How a runtime ends broadcasts whose sidecar is gone (low-latency/abandoned-broadcast.ts): its
 * storage, and the platform's webhooks and registry where it has them (the event names a keyed
 * stream as the sidecar's events do). The live state's watch ends one at a time; the hourly
 * sweep (at start and hourly on Node and Deno, from the Cron Trigger on Workers) catches the rest.
 */
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import { endAbandonedBroadcast, endStaleBroadcasts, type BroadcastEndingOptions } from '../low-latency/abandoned-broadcast.ts';
import type { Lease } from '../low-latency/stream-lease.ts';
import type { StreamRegistry } from '../platform/stream-registry.ts';
import type { Webhooks } from '../platform/webhooks.ts';

export interface BroadcastEndingPlatform {
  webhooks?: Webhooks;
  registry?: StreamRegistry;
}

const SWEEP_INTERVAL_MS = 3_600_000;

function endingOptions(store: ObjectStore, platform: BroadcastEndingPlatform): BroadcastEndingOptions {
  const { webhooks, registry } = platform;
  return {
    store,
    log: (line) => console.warn(line),
    ...(webhooks
      ? {
          report: async (event) => {
            const name = (await registry?.findByPlaybackId(event.data.playbackId).catch(() => undefined))?.name;
            return webhooks.accept(name ? { ...event, data: { ...event.data, name } } : event);
          },
        }
      : {}),
  };
}

/** The live state's watch: ends the broadcast of a lease that ran out with nobody taking the stream up. */
export function abandonedBroadcastEnder(store: ObjectStore, platform: BroadcastEndingPlatform): (playbackId: string, lease: Lease) => Promise<void> {
  const options = endingOptions(store, platform);
  return async (playbackId, lease) => {
    const outcome = await endAbandonedBroadcast(playbackId, lease, options);
    if (!outcome.ended) console.warn(`edge: stream ${playbackId}: its sidecar is gone, and its broadcast was left as it is: ${outcome.reason}`);
  };
}

/** One sweep for broadcasts left live; a failure is logged (the next sweep tries again), never thrown. */
export async function sweepStaleBroadcasts(store: ObjectStore, platform: BroadcastEndingPlatform): Promise<string[]> {
  try {
    return await endStaleBroadcasts(endingOptions(store, platform));
  } catch (error) {
    console.error(`edge: looking for broadcasts left live failed (tried again within the hour): ${error instanceof Error ? error.message : String(error)}`);
    return [];
  }
}

/** Sweeps now and every hour (a process that runs: Node, Deno); returns the stop. */
export function scheduleStaleBroadcastSweep(store: ObjectStore, platform: BroadcastEndingPlatform): () => void {
  void sweepStaleBroadcasts(store, platform);
  const timer = setInterval(() => void sweepStaleBroadcasts(store, platform), SWEEP_INTERVAL_MS);
  return () => clearInterval(timer);
}
