import { describe, expect, it } from 'vitest';
import { createApp } from '../../../edge/app.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import { putStreamStatus } from '../../helpers/edge-app.ts';
import { HOSTILE_PLAYBACK_SECRET, hostileRequestTests, recordingStore, seedHostileStreams } from '../../helpers/hostile-requests.ts';
import { InProcessCoordinator } from '../../../edge/low-latency/coordinator.ts';

describe('hostile requests to the edge', () => {
  // URL parsing (the client's, then the runtime's) resolves these before any route sees them:
  // they are plain requests for stream "other", and must read nothing but its prefix.
  it.each([
    { name: 'dot-dot segments', path: '/live/colors/../other/index.m3u8' },
    { name: 'encoded dot-dot', path: '/live/colors/%2e%2e/other/index.m3u8' },
  ])('resolves $name as URLs do, reading only the resolved stream', async ({ path }) => {
    const memory = new MemoryObjectStore();
    await memory.put('streams/other/index.m3u8', '#EXTM3U\n', { contentType: 'application/vnd.apple.mpegurl' });
    await putStreamStatus(memory, 'other');
    const store = recordingStore(memory);
    const app = createApp({ store, ingestSecret: 'secret', assets: { hlsJsVersion: '1', hlsJsSource: '', dashJsVersion: '1', dashJsSource: '' } });
    expect((await app.request(path)).status).toBe(200);
    expect(store.read).toEqual(['streams/other/status.json', 'streams/other/index.m3u8']);
  });

});

hostileRequestTests(async (ingestSecret) => {
  const memory = new MemoryObjectStore();
  await seedHostileStreams(memory);
  const store = recordingStore(memory);
  const app = createApp({
    store,
    ingestSecret,
    playbackSecret: HOSTILE_PLAYBACK_SECRET,
    lowLatency: new InProcessCoordinator(store),
    assets: { hlsJsVersion: '1', hlsJsSource: '', dashJsVersion: '1', dashJsSource: '' },
  });
  return { app, store };
});
