/** The edge app over an in-memory store, for route tests through app.request(). */
import { createApp } from '../../edge/app.ts';
import { InProcessCoordinator } from '../../edge/low-latency/coordinator.ts';
import { MemoryObjectStore } from '../../shared/storage/memory-object-store.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';

export const TEST_SECRET = 'test-secret-0123456789';

export const TEST_PLAYBACK_SECRET = 'playback-secret-for-tests';

export function edgeAppForTest(options: { secret?: string | undefined; playbackSecret?: string; segmentBaseUrl?: string; lowLatency?: boolean } = {}) {
  const store = new MemoryObjectStore();
  const app = createApp({
    store,
    lowLatency: options.lowLatency ? new InProcessCoordinator(store) : undefined,
    ingestSecret: 'secret' in options ? options.secret : TEST_SECRET,
    playbackSecret: options.playbackSecret,
    segmentBaseUrl: options.segmentBaseUrl,
    assets: { hlsJsVersion: '9.9.9', hlsJsSource: '/* hls.js */', dashJsVersion: '8.8.8', dashJsSource: '/* dash.js */', shakaVersion: '7.7.7', shakaSource: '/* shaka */' },
  });
  return { app, store };
}

/** The status document a live stream has before anything of it is served (the edge reads it for access). */
export function putStreamStatus(store: ObjectStore, playbackId: string, playback: 'public' | 'signed' = 'public'): Promise<void> {
  const status = { playbackId, state: 'live', startedAt: 0, updatedAt: 0, targetDuration: 2, restarts: 0, renditions: [], playback };
  return store.put(`streams/${playbackId}/status.json`, JSON.stringify(status), { contentType: 'application/json' });
}
