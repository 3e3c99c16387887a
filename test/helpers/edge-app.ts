/** The edge app over an in-memory store, for route tests through app.request(). */
import { createApp } from '../../edge/app.ts';
import { MemoryObjectStore } from '../../shared/storage/memory-object-store.ts';

export const TEST_SECRET = 'test-secret-0123456789';

export function edgeAppForTest(options: { secret?: string | undefined } = {}) {
  const store = new MemoryObjectStore();
  const app = createApp({
    store,
    ingestSecret: 'secret' in options ? options.secret : TEST_SECRET,
    assets: { hlsJsVersion: '9.9.9', hlsJsSource: '/* hls.js */', dashJsVersion: '8.8.8', dashJsSource: '/* dash.js */' },
  });
  return { app, store };
}
