/**
 * The platform's events around the lease (issue 16 items 3-4): a publisher this sidecar accepted
 * but the edge refused (another sidecar holds the stream, or is being taken over from) is no
 * connect, disconnect or idle of the stream: the holder reports the stream, this one says
 * nothing. A granted one reports as before.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { IngestMetrics } from '../../../ingest/api/metrics.ts';
import { StreamRegistry, type StreamLeases } from '../../../ingest/pipeline/stream-registry.ts';
import type { PublishHandler } from '../../../ingest/rtmp/rtmp-server.ts';
import type { StreamEvents } from '../../../ingest/streams/event-reporter.ts';
import { PublishAccess } from '../../../ingest/streams/publish-access.ts';
import { StreamStore } from '../../../ingest/streams/stream-store.ts';
import { DEFAULT_LADDER_CONFIG } from '../../../ingest/transcode/ladder.ts';
import type { LeaseOutcome } from '../../../ingest/upload/live-channel.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';

/** Leases as the edge answers them: every request gets `outcome`. */
function leasesAnswering(outcome: LeaseOutcome): StreamLeases & { released: string[] } {
  const released: string[] = [];
  return { released, acquire: async () => outcome, release: (playbackId) => released.push(playbackId) };
}

async function publishThrough(outcome: LeaseOutcome) {
  const streams = new StreamStore(join(mkdtempSync(join(tmpdir(), 'lease-events-')), 'streams.json'));
  const { key } = streams.add('main');
  const events: string[] = [];
  const recorder: StreamEvents = { report: (type) => events.push(type), errored: (_stream, code) => events.push(`stream.errored ${code}`) };
  const settings = { ffmpegPath: 'ffmpeg', ladder: DEFAULT_LADDER_CONFIG, targetSegmentDuration: 2, chunkDuration: 0.333, windowSegments: 5, retention: 'window' as const, drainTimeoutMs: 1000, idleTimeoutMs: 10_000, reconnectWindowMs: 0, stallTimeoutMs: 10_000 };
  const registry = new StreamRegistry({
    settings,
    store: new MemoryObjectStore(),
    access: new PublishAccess('keyed', streams),
    log: pino({ level: 'silent' }),
    metrics: new IngestMetrics(),
    leases: leasesAnswering(outcome),
    events: recorder,
  });
  const decision = await registry.decide({ app: 'live', name: key, query: {}, remoteAddress: '127.0.0.1:5000' });
  if (!('accept' in decision)) throw new Error(decision.reject);
  const refusals: string[] = [];
  let handler: PublishHandler | undefined;
  // As the RTMP server does: refusing or disconnecting closes the socket, which ends the publish.
  const control = {
    disconnect: () => handler?.onEnd(),
    resubscribe: () => {},
    refuse: (reason: string) => {
      refusals.push(reason);
      handler?.onEnd();
    },
  };
  handler = decision.accept(control);
  return { registry, events, refusals, playbackId: streams.list()[0]!.playbackId, handler };
}

describe('stream events and the lease', () => {
  it('reports nothing for a publisher refused because another sidecar holds the stream', async () => {
    const { registry, events, refusals } = await publishThrough({ ok: false, reason: 'the stream is being published through another sidecar' });
    // The refused stream ends here a second after the refusal (the publisher reads the reason first).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(refusals).toEqual(['the stream is being published through another sidecar']);
    expect(registry.list()).toEqual([]);
    expect(events).toEqual([]);
    await registry.close();
  });

  it('reports connected, disconnected and idle for a publisher whose lease was granted', async () => {
    const { registry, events, refusals, handler } = await publishThrough({ ok: true });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(events).toEqual(['stream.connected']);
    handler.onEnd();
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(refusals).toEqual([]);
    expect(events).toEqual(['stream.connected', 'stream.disconnected', 'stream.idle']);
    await registry.close();
  });
});
