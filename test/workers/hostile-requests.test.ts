/** The hostile-request table inside the Workers runtime: R2, the Cache API and the Durable Object live state. */
import { env } from 'cloudflare:workers';
import { R2ObjectStore } from '../../edge/storage/r2-object-store.ts';
import { createWorkerApp, type Env } from '../../edge/worker.ts';
import { HOSTILE_PLAYBACK_SECRET, hostileRequestTests, recordingStore, seedHostileStreams } from '../helpers/hostile-requests.ts';

const bindings = env as unknown as Env;

hostileRequestTests(async (ingestSecret) => {
  const r2 = new R2ObjectStore(bindings.BUCKET);
  await seedHostileStreams(r2);
  const store = recordingStore(r2);
  const app = createWorkerApp({ ...bindings, INGEST_SECRET: ingestSecret, PLAYBACK_SECRET: HOSTILE_PLAYBACK_SECRET }, { store });
  return { app, store };
});
