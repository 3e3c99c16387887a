/**
 * The edge origin on Deno with S3-compatible storage (R2's S3 API, AWS S3, MinIO-style servers):
 * the same Hono app as on Workers. Run:
 *   deno run --allow-net --allow-env --allow-read edge/deno-server.ts
 * with S3_ENDPOINT, S3_BUCKET, S3_REGION (default auto), S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY,
 * EDGE_HOST/EDGE_PORT (default 127.0.0.1:8080), EDGE_CACHE_MB (memory for copies of what viewers
 * read, default 256, 0: every request reads the bucket), and the edge's INGEST_SECRET, PLAYBACK_SECRET,
 * SEGMENT_BASE_URL as on Workers. Type-checked by `deno check` (npm test does).
 * The stream registry and its management API (/api/v1/streams, ADMIN_TOKEN): set REGISTRY_DB to
 * a SQLite file (node:sqlite; add --allow-write for its folder).
 */
import { upgradeWebSocket } from 'hono/deno';
import { S3ObjectStore } from '../shared/storage/s3-object-store.ts';
import { createApp } from './app.ts';
import { abandonedBroadcastEnder, scheduleStaleBroadcastSweep } from './runtime/broadcast-ending.ts';
import { DEFAULT_CACHE_MB, parseCacheMegabytes, withMemoryCache } from './runtime/memory-cache-setting.ts';
import { developmentListenRefusal } from './development-secret.ts';
import { InProcessCoordinator } from './low-latency/coordinator.ts';
import { edgeDependencies } from './runtime/environment.ts';
import { readPlayerAssets } from './runtime/player-assets.ts';
import { s3SettingsFrom } from './runtime/s3-settings.ts';
import { openSqlitePlatform } from './runtime/sqlite-registry.ts';
import { scheduleRecordingExpiry } from './recordings/expiry-schedule.ts';

const env = Deno.env.toObject();
const hostname = env.EDGE_HOST ?? '127.0.0.1';
const port = Number(env.EDGE_PORT ?? 8080);
// The public development secret on an address beyond this machine: refuse to start (development-secret.ts).
const refusal = developmentListenRefusal(env.INGEST_SECRET, hostname);
const s3 = s3SettingsFrom(env);
const cacheSize = parseCacheMegabytes(env.EDGE_CACHE_MB ?? String(DEFAULT_CACHE_MB));
if (refusal || !s3.ok || !cacheSize.ok) {
  console.error(refusal ?? (!s3.ok ? s3.reason : !cacheSize.ok ? `edge (Deno): EDGE_CACHE_MB: ${cacheSize.reason}` : ''));
  Deno.exit(1);
}

// Every write of this process (write API, live channel, recordings) forgets the copy it replaces.
const { store, memoryCache } = withMemoryCache(new S3ObjectStore(s3.options), cacheSize.megabytes);
// The stream registry and the webhooks (WEBHOOK_URLS, WEBHOOK_SECRET; delivered from this process).
const platform = env.REGISTRY_DB ? openSqlitePlatform(env.REGISTRY_DB, env) : {};
const app = createApp(edgeDependencies(env, {
  store,
  memoryCache,
  // A broadcast whose sidecar is gone is ended here.
  lowLatency: new InProcessCoordinator(store, { upgradeWebSocket, endAbandoned: abandonedBroadcastEnder(store, platform) }),
  // Deno.serve passes its connection info as the handler's second argument: Hono's env.
  peerAddress: (c) => (c.env as Deno.ServeHandlerInfo<Deno.NetAddr>).remoteAddr.hostname,
  ...platform,
  assets: await readPlayerAssets(),
}));

// Expired recordings are deleted at start and hourly (README: Recordings).
scheduleRecordingExpiry(store);
// Broadcasts left live by a sidecar gone while no watch saw it (this edge restarted meanwhile): at start and hourly.
scheduleStaleBroadcastSweep(store, platform);
Deno.serve({ hostname, port, onListen: () => console.log(`edge (Deno, S3 bucket ${s3.options.bucket}) on http://${hostname}:${port}`) }, app.fetch);
