/**
 * The edge origin on Node with a folder for storage: the same Hono app as on Workers, for a
 * single machine or a VM without Cloudflare. `npm run edge:node -- --help`.
 */
import { join } from 'node:path';
import { serve, upgradeWebSocket } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { WebSocketServer } from 'ws';
import { FilesystemObjectStore } from '../shared/storage/filesystem-object-store.ts';
import { PART_FRAME_MAX_BYTES } from '../shared/live-channel-protocol.ts';
import { createApp } from './app.ts';
import { abandonedBroadcastEnder, scheduleStaleBroadcastSweep } from './runtime/broadcast-ending.ts';
import { withMemoryCache } from './runtime/memory-cache-setting.ts';
import { developmentListenRefusal } from './development-secret.ts';
import { InProcessCoordinator } from './low-latency/coordinator.ts';
import { edgeDependencies } from './runtime/environment.ts';
import { restartIntoEdgeHeap } from './runtime/node-heap.ts';
import { parseNodeEdgeOptions } from './runtime/node-options.ts';
import { readPlayerAssets } from './runtime/player-assets.ts';
import { openSqlitePlatform } from './runtime/sqlite-registry.ts';
import { scheduleRecordingExpiry } from './recordings/expiry-schedule.ts';

const options = parseNodeEdgeOptions(process.argv);
// The public development secret on an address beyond this machine: refuse to start (development-secret.ts).
const refusal = developmentListenRefusal(process.env.INGEST_SECRET, options.host);
if (refusal) {
  console.error(refusal);
  process.exit(1);
}
// Before anything is allocated: the old generation's starting size (node-heap.ts) needs a restart.
const heap = restartIntoEdgeHeap();

// Every write of this process (write API, live channel, recordings) forgets the copy it replaces.
const { store, memoryCache } = withMemoryCache(new FilesystemObjectStore(options.storageDir), options.cacheMb);
// The stream registry and the webhooks (WEBHOOK_URLS, WEBHOOK_SECRET; delivered from this process).
const platform = openSqlitePlatform(options.registryDb ?? join(options.storageDir, '.platform', 'registry.sqlite'), process.env);
const app = createApp(edgeDependencies(process.env, {
  store,
  memoryCache,
  // The sidecar's live channels (WebSockets) are upgraded by `ws`, through Hono's helper; a
  // broadcast whose sidecar is gone is ended here.
  lowLatency: new InProcessCoordinator(store, { upgradeWebSocket, endAbandoned: abandonedBroadcastEnder(store, platform) }),
  peerAddress: (c) => getConnInfo(c).remote.address,
  ...platform,
  assets: await readPlayerAssets(),
}));

const server = serve({ fetch: app.fetch, hostname: options.host, port: options.port, websocket: { server: new WebSocketServer({ noServer: true, maxPayload: PART_FRAME_MAX_BYTES }) } }, (info) => {
  console.log(`edge (Node, folder ${options.storageDir}) on http://${options.host}:${info.port} (V8: ${heap}), memory cache ${options.cacheMb > 0 ? `${options.cacheMb} MB` : 'off'}${process.env.INGEST_SECRET ? '' : ' — INGEST_SECRET unset: the write API refuses writes'}`);
});
server.on('error', (error: NodeJS.ErrnoException) => {
  console.error(`edge: cannot listen on ${options.host}:${options.port}: ${error.message}`);
  process.exit(1);
});
// Expired recordings are deleted at start and hourly (README: Recordings).
scheduleRecordingExpiry(store);
// Broadcasts left live by a sidecar gone while no watch saw it (this edge restarted meanwhile): at start and hourly.
scheduleStaleBroadcastSweep(store, platform);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => server.close(() => process.exit(0)));
