/**
 * The edge origin on Node with a folder for storage: the same Hono app as on Workers, for a
 * single machine or a VM without Cloudflare. `npm run edge:node -- --help`.
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { fileURLToPath } from 'node:url';
import { serve, upgradeWebSocket } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { Command, InvalidArgumentError, Option } from 'commander';
import { WebSocketServer } from 'ws';
import { FilesystemObjectStore } from '../shared/storage/filesystem-object-store.ts';
import { createApp } from './app.ts';
import { developmentListenRefusal } from './development-secret.ts';
import { InProcessCoordinator } from './low-latency/coordinator.ts';
import { SqliteClient } from './platform/sqlite-client.ts';
import { SqlStreamRegistry } from './platform/stream-registry.ts';
import { PART_FRAME_MAX_BYTES } from '../shared/live-channel-protocol.ts';

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 65535) throw new InvalidArgumentError('expected a port from 1 to 65535');
  return parsed;
}

const program = new Command('edge:node')
  .description('Serve streams from a folder (the sidecar stores into it through the write API, or directly with --storage fs).')
  .addOption(new Option('--host <address>', 'address to listen on').env('EDGE_HOST').default('127.0.0.1'))
  .addOption(new Option('--port <port>', 'port to listen on').env('EDGE_PORT').default(8080).argParser(port))
  .addOption(new Option('--storage-dir <path>', 'the folder streams are stored in').env('STORAGE_DIR').default('media'))
  .addOption(new Option('--registry-db <path>', 'SQLite file of the stream registry (default: STORAGE_DIR/.platform/registry.sqlite)').env('REGISTRY_DB'))
  .addHelpText('after', '\nSecrets and settings from the environment: INGEST_SECRET (write API), ADMIN_TOKEN (management API, /api/v1/streams), PLAYBACK_SECRET (signed playback), SEGMENT_BASE_URL (CDN for segments).')
  .parse();
const options = program.opts<{ host: string; port: number; storageDir: string; registryDb?: string }>();

// The public development secret on an address beyond this machine: refuse to start (development-secret.ts).
const refusal = developmentListenRefusal(process.env.INGEST_SECRET, options.host);
if (refusal) {
  console.error(refusal);
  process.exit(1);
}

/** A file of an installed package (hls.js, dash.js and Shaka Player are served by the edge itself; dash.js exports neither its build nor its package.json). */
function packageFile(packageName: string, file: string): { source: string; version: string } {
  const root = fileURLToPath(new URL(`../node_modules/${packageName}/`, import.meta.url));
  const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  return { source: readFileSync(join(root, file), 'utf8'), version };
}

const hls = packageFile('hls.js', 'dist/hls.min.js');
const dash = packageFile('dashjs', 'dist/modern/umd/dash.all.min.js');
const shaka = packageFile('shaka-player', 'dist/shaka-player.compiled.js');
const store = new FilesystemObjectStore(options.storageDir);

/** The stream registry in a SQLite file, migrated from migrations/ (the files D1 gets on Workers). */
function openRegistry(path: string): SqlStreamRegistry {
  mkdirSync(dirname(path), { recursive: true });
  const client = new SqliteClient(new DatabaseSync(path));
  const dir = fileURLToPath(new URL('../migrations/', import.meta.url));
  client.migrate(readdirSync(dir).filter((name) => name.endsWith('.sql')).map((name) => ({ name, sql: readFileSync(join(dir, name), 'utf8') })));
  return new SqlStreamRegistry(client);
}
const app = createApp({
  store,
  // The sidecar's live channels (WebSockets) are upgraded by `ws`, through Hono's helper.
  lowLatency: new InProcessCoordinator(store, { upgradeWebSocket }),
  ingestSecret: process.env.INGEST_SECRET || undefined,
  peerAddress: (c) => getConnInfo(c).remote.address,
  playbackSecret: process.env.PLAYBACK_SECRET || undefined,
  segmentBaseUrl: process.env.SEGMENT_BASE_URL || undefined,
  registry: openRegistry(options.registryDb ?? join(options.storageDir, '.platform', 'registry.sqlite')),
  adminToken: process.env.ADMIN_TOKEN || undefined,
  assets: { hlsJsVersion: hls.version, hlsJsSource: hls.source, dashJsVersion: dash.version, dashJsSource: dash.source, shakaVersion: shaka.version, shakaSource: shaka.source },
});

const server = serve({ fetch: app.fetch, hostname: options.host, port: options.port, websocket: { server: new WebSocketServer({ noServer: true, maxPayload: PART_FRAME_MAX_BYTES }) } }, (info) => {
  console.log(`edge (Node, folder ${options.storageDir}) on http://${options.host}:${info.port}${process.env.INGEST_SECRET ? '' : ' — INGEST_SECRET unset: the write API refuses writes'}`);
});
server.on('error', (error: NodeJS.ErrnoException) => {
  console.error(`edge: cannot listen on ${options.host}:${options.port}: ${error.message}`);
  process.exit(1);
});
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => server.close(() => process.exit(0)));
