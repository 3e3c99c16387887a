/**
 * Where a recording starts and ends, through the sidecar's stream registry and pipeline (real FLV
 * from ffmpeg, remuxed in-process): a publisher that comes back within the reconnect window
 * continues the same recording; one that comes back after it starts a new one.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { beforeAll, describe, expect, it } from 'vitest';
import { IngestMetrics } from '../../../ingest/api/metrics.ts';
import { StreamRegistry } from '../../../ingest/pipeline/stream-registry.ts';
import { PublishAccess } from '../../../ingest/streams/publish-access.ts';
import { StreamStore } from '../../../ingest/streams/stream-store.ts';
import { parseRecordingDocument, type RecordingDocument } from '../../../shared/recordings/recording-document.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import { makeFlv } from '../../helpers/media-fixtures.ts';
import { eventually } from '../../helpers/network.ts';

const RECONNECT_WINDOW_MS = 1_500;

describe('recording boundaries', () => {
  let flv: Buffer;

  beforeAll(async () => {
    flv = await makeFlv({ seconds: 5, gopFrames: 60 });
  });

  function sidecar() {
    const store = new MemoryObjectStore();
    const streams = new StreamStore(join(mkdtempSync(join(tmpdir(), 'boundaries-')), 'streams.json'));
    const settings = {
      ffmpegPath: 'ffmpeg',
      // The source alone, passed through: nothing to encode.
      ladder: { rungs: [], passthrough: 'auto' as const, preset: 'veryfast', audio: { bitrate: 128_000, sampleRate: 48_000, channels: 2 } },
      targetSegmentDuration: 2,
      chunkDuration: 0.333,
      windowSegments: 3,
      retention: 'all' as const,
      recordingDays: 1,
      drainTimeoutMs: 2_000,
      idleTimeoutMs: 10_000,
      reconnectWindowMs: RECONNECT_WINDOW_MS,
      stallTimeoutMs: 10_000,
    };
    const registry = new StreamRegistry({ settings, store, access: new PublishAccess('open', streams), log: pino({ level: 'silent' }), metrics: new IngestMetrics() });
    return { registry, store };
  }

  /** A publisher sends the whole FLV and leaves. */
  async function publish(registry: StreamRegistry): Promise<void> {
    const decision = await registry.decide({ app: 'live', name: 'colors', query: {}, remoteAddress: '127.0.0.1:5000' });
    if (!('accept' in decision)) throw new Error(decision.reject);
    let ended = false;
    const handler = decision.accept({ disconnect: () => void (ended || ((ended = true), handler.onEnd())), resubscribe: () => {} });
    handler.onData(flv);
    // The run packages what it was given before the publisher's leave drains it.
    await new Promise((resolve) => setTimeout(resolve, 300));
    ended = true;
    handler.onEnd();
  }

  function recordings(store: MemoryObjectStore): RecordingDocument[] {
    return [...store.objects.keys()]
      .filter((key) => /^streams\/colors\/recordings\/[^/]+\/recording\.json$/.test(key))
      .map((key) => parseRecordingDocument(JSON.parse(store.text(key)!)))
      .flatMap((parsed) => (parsed.ok ? [parsed.recording] : []));
  }

  it('a reconnect within the window is the same recording; a publish after it is a new one', async () => {
    const { registry, store } = sidecar();
    try {
      await publish(registry);
      // Back within the window: the same broadcast, a second session.
      await new Promise((resolve) => setTimeout(resolve, 400));
      await publish(registry);
      const first = await eventually('the first recording ready', 20_000, async () => {
        const found = recordings(store);
        return found.length === 1 && found[0]!.state === 'ready' ? found[0] : undefined;
      });
      const sessions = (recording: RecordingDocument) => new Set(recording.renditions[0]!.segments.map((segment) => (segment.initKey ?? recording.renditions[0]!.initKey).split('/').at(-1)));
      expect(sessions(first).size).toBe(2);
      expect(first.durationSeconds).toBeGreaterThan(6);

      // After the window passed (the stream ended): a new broadcast, a new recording.
      await publish(registry);
      const both = await eventually('a second recording ready', 20_000, async () => {
        const found = recordings(store);
        return found.length === 2 && found.every((recording) => recording.state === 'ready') ? found : undefined;
      });
      const second = both.find((recording) => recording.recordingId !== first.recordingId)!;
      expect(sessions(second).size).toBe(1);
      expect(Date.parse(second.startedAt)).toBeGreaterThanOrEqual(Date.parse(first.endedAt!));
    } finally {
      await registry.close();
    }
  }, 60_000);
});
