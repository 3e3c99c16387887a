/**
 * How a runtime ends a broadcast whose sidecar is gone (low-latency/abandoned-broadcast.ts): its
 * storage, and the platform's webhooks and registry where it has them (the event names a keyed
 * stream as the sidecar's events do).
 */
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import { endAbandonedBroadcast } from '../low-latency/abandoned-broadcast.ts';
import type { Lease } from '../low-latency/stream-lease.ts';
import type { StreamRegistry } from '../platform/stream-registry.ts';
import type { Webhooks } from '../platform/webhooks.ts';

export interface BroadcastEndingPlatform {
  webhooks?: Webhooks;
  registry?: StreamRegistry;
}

export function abandonedBroadcastEnder(store: ObjectStore, platform: BroadcastEndingPlatform): (playbackId: string, lease: Lease) => Promise<void> {
  const { webhooks, registry } = platform;
  return async (playbackId, lease) => {
    const outcome = await endAbandonedBroadcast(playbackId, lease, {
      store,
      log: (line) => console.warn(line),
      ...(webhooks
        ? {
            report: async (event) => {
              const name = (await registry?.findByPlaybackId(playbackId).catch(() => undefined))?.name;
              return webhooks.accept(name ? { ...event, data: { ...event.data, name } } : event);
            },
          }
        : {}),
    });
    if (!outcome.ended) console.warn(`edge: stream ${playbackId}: its sidecar is gone, and its broadcast was left as it is: ${outcome.reason}`);
  };
}
