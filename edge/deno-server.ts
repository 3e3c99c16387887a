/**
 * The edge origin on Deno with S3-compatible storage (R2's S3 API, AWS S3, MinIO-style servers):
 * the same Hono app as on Workers. Run:
 *   deno run --allow-net --allow-env --allow-read edge/deno-server.ts
 * with S3_ENDPOINT, S3_BUCKET, S3_REGION (default auto), S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY,
 * EDGE_HOST/EDGE_PORT (default 127.0.0.1:8080), and the edge's INGEST_SECRET, PLAYBACK_SECRET,
 * SEGMENT_BASE_URL as on Workers. Type-checked by `deno check` (npm test does).
 * The stream registry and its management API (/api/v1/streams, ADMIN_TOKEN): set REGISTRY_DB to
 * a SQLite file (node:sqlite; add --allow-write for its folder).
 */
import { S3ObjectStore } from '../shared/storage/s3-object-store.ts';
import { upgradeWebSocket } from 'hono/deno';
import { createApp } from './app.ts';
import { developmentListenRefusal } from './development-secret.ts';
import { InProcessCoordinator } from './low-latency/coordinator.ts';
import { SqliteClient } from './platform/sqlite-client.ts';
import { SqlStreamRegistry } from './platform/stream-registry.ts';
import { DatabaseSync } from 'node:sqlite';

const hostname = Deno.env.get('EDGE_HOST') ?? '127.0.0.1';
const port = Number(Deno.env.get('EDGE_PORT') ?? 8080);
// The public development secret on an address beyond this machine: refuse to start (development-secret.ts).
const refusal = developmentListenRefusal(Deno.env.get('INGEST_SECRET'), hostname);
if (refusal) {
  console.error(refusal);
  Deno.exit(1);
}

function required(name: string): string {
  const value = Deno.env.get(name);
  if (!value) {
    console.error(`edge (Deno): set ${name} (S3_ENDPOINT, S3_BUCKET, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY are needed)`);
    Deno.exit(1);
  }
  return value;
}

/** A file of an installed package: hls.js, dash.js and Shaka Player are served by the edge itself. */
async function packageFile(packageName: string, file: string): Promise<{ source: string; version: string }> {
  const root = new URL(`../node_modules/${packageName}/`, import.meta.url);
  const { version } = JSON.parse(await Deno.readTextFile(new URL('package.json', root))) as { version: string };
  return { source: await Deno.readTextFile(new URL(file, root)), version };
}

const store = new S3ObjectStore({
  endpoint: required('S3_ENDPOINT'),
  bucket: required('S3_BUCKET'),
  region: Deno.env.get('S3_REGION') ?? 'auto',
  accessKeyId: required('S3_ACCESS_KEY_ID'),
  secretAccessKey: required('S3_SECRET_ACCESS_KEY'),
  pathStyle: Deno.env.get('S3_VIRTUAL_HOSTED') !== '1',
});
/** The stream registry in a SQLite file, migrated from migrations/ (the files D1 gets on Workers). */
async function openRegistry(path: string): Promise<SqlStreamRegistry> {
  const client = new SqliteClient(new DatabaseSync(path));
  const dir = new URL('../migrations/', import.meta.url);
  const files = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith('.sql')) files.push({ name: entry.name, sql: await Deno.readTextFile(new URL(entry.name, dir)) });
  }
  client.migrate(files);
  return new SqlStreamRegistry(client);
}
const registryDb = Deno.env.get('REGISTRY_DB');

const hls = await packageFile('hls.js', 'dist/hls.min.js');
const dash = await packageFile('dashjs', 'dist/modern/umd/dash.all.min.js');
const shaka = await packageFile('shaka-player', 'dist/shaka-player.compiled.js');
const app = createApp({
  store,
  lowLatency: new InProcessCoordinator(store, { upgradeWebSocket }),
  ingestSecret: Deno.env.get('INGEST_SECRET') || undefined,
  // Deno.serve passes its connection info as the handler's second argument: Hono's env.
  peerAddress: (c) => {
    const { remoteAddr } = c.env as Deno.ServeHandlerInfo<Deno.NetAddr>;
    return remoteAddr.hostname;
  },
  playbackSecret: Deno.env.get('PLAYBACK_SECRET') || undefined,
  segmentBaseUrl: Deno.env.get('SEGMENT_BASE_URL') || undefined,
  registry: registryDb ? await openRegistry(registryDb) : undefined,
  adminToken: Deno.env.get('ADMIN_TOKEN') || undefined,
  assets: { hlsJsVersion: hls.version, hlsJsSource: hls.source, dashJsVersion: dash.version, dashJsSource: dash.source, shakaVersion: shaka.version, shakaSource: shaka.source },
});

Deno.serve({ hostname, port, onListen: () => console.log(`edge (Deno, S3 bucket ${Deno.env.get('S3_BUCKET')}) on http://${hostname}:${port}`) }, app.fetch);
