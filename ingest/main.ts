/** `npm run ingest`: runs the ingest sidecar until SIGINT/SIGTERM. */
import { serve } from '@hono/node-server';
import { join, resolve } from 'node:path';
import { createOpsApi } from './api/ops-api.ts';
import { IngestMetrics } from './api/metrics.ts';
import { parseIngestConfig } from './config.ts';
import { createLogger } from './log.ts';
import { LiveJournal } from './pipeline/live-journal.ts';
import { lockStateDir } from './pipeline/state-dir-lock.ts';
import { StreamRegistry } from './pipeline/stream-registry.ts';
import { RtmpServer } from './rtmp/rtmp-server.ts';
import { AccessSetupError, setUpAccess, type AccessSetup } from './streams/access-setup.ts';
import { FfmpegNotFoundError, locateFfmpeg } from './transcode/ffmpeg-binary.ts';
import { Thumbnails } from './thumbnails/stream-thumbnails.ts';
import { ffmpegConnector } from './restream/ffmpeg-connection.ts';
import { createObjectStore, describeStorage } from './upload/object-store-factory.ts';
import { LiveChannels, sidecarIdIn } from './upload/live-channels.ts';
import { checkStorageAccess } from './upload/storage-trouble.ts';
import { ALLOCATOR_ENV, AllocatorSettingError, describeMemoryInUse, installedJemalloc, restartIntoMemorySetup, type MemoryInUse } from './memory-allocator.ts';

const SHUTDOWN_TIMEOUT_MS = 10_000;

function fatal(message: string): never {
  console.error(`ingest: ${message}`);
  process.exit(1);
}

let memory: MemoryInUse;
try {
  memory = restartIntoMemorySetup();
} catch (error) {
  if (!(error instanceof AllocatorSettingError)) throw error;
  fatal(error.message);
}

const config = parseIngestConfig(process.argv.slice(2));
const log = createLogger({ level: config.logLevel, format: config.logFormat });
// glibc because jemalloc is missing (not because INGEST_ALLOCATOR=system chose it): say how to get it.
if (memory.allocator === 'glibc' && process.env[ALLOCATOR_ENV] !== 'system' && !installedJemalloc()) {
  log.warn('jemalloc is not installed: running on glibc malloc, whose heap creeps up under many streams. Install it (Debian/Ubuntu: sudo apt-get install -y libjemalloc2) and restart; INGEST_ALLOCATOR=system silences this');
}
if (memory.restartSkipped) log.warn(`running without the sidecar's memory settings (${memory.restartSkipped}): resident memory may creep up under many streams`);
if (memory.allocator === 'jemalloc' && !memory.jemallocLoaded) log.warn('jemalloc was preloaded but is not in use (see the dynamic linker\'s message above): running on the C library\'s malloc');

let ffmpegPath: string;
try {
  ffmpegPath = locateFfmpeg();
} catch (error) {
  if (!(error instanceof FfmpegNotFoundError)) throw error;
  fatal(error.message);
}

let accessSetup: AccessSetup;
try {
  accessSetup = await setUpAccess(config, log);
} catch (error) {
  if (!(error instanceof AccessSetupError)) throw error;
  fatal(error.message);
}
const { access } = accessSetup;
if (config.storage.kind === 'edge' && config.storage.usingDevelopmentSecret) {
  // parseIngestConfig refuses it for an edge on another machine.
  log.warn('INGEST_SECRET is not set: using the development secret, which only an edge on this machine accepts');
}

const metrics = new IngestMetrics();
const store = createObjectStore(config.storage);
if (config.storage.kind !== 'fs') {
  // A wrong secret would otherwise accept publishers and store nothing.
  const storageAccess = await checkStorageAccess(store, describeStorage(config.storage));
  if ('refused' in storageAccess) fatal(storageAccess.refused);
  if ('unsure' in storageAccess) log.warn(storageAccess.unsure);
}
if (config.lowLatency && config.storage.kind !== 'edge') {
  log.info('low-latency HLS parts are announced through the edge write API only (--storage edge): this sidecar publishes segments only');
}

let journal: LiveJournal;
try {
  // Before the journal is read: another sidecar's open streams are not this one's to take up.
  const stateLock = lockStateDir(resolve(config.stateDir));
  process.on('exit', () => stateLock.release());
  journal = new LiveJournal(join(resolve(config.stateDir), 'live-streams.json'));
} catch (error) {
  fatal((error as Error).message);
}

// One live channel per stream to the edge: the stream's lease (one writer per stream) and its low-latency parts.
const channels =
  config.storage.kind === 'edge'
    ? new LiveChannels({
        edgeUrl: config.storage.edgeUrl,
        secret: config.storage.secret,
        sidecarId: sidecarIdIn(resolve(config.stateDir)),
        partLifetimeMs: 3 * config.segmentDuration * 1000,
        log,
      })
    : undefined;

const registry = new StreamRegistry({
  store,
  access,
  log,
  metrics,
  journal,
  leases: channels,
  events: accessSetup.events,
  outputStates: accessSetup.outputStates,
  settings: {
    ffmpegPath,
    storageName: describeStorage(config.storage),
    ladder: config.ladder,
    targetSegmentDuration: config.segmentDuration,
    chunkDuration: config.chunkDuration,
    partSink: config.lowLatency ? channels : undefined,
    windowSegments: config.playlistWindow,
    retention: config.retention,
    recordingDays: config.recordingDays,
    drainTimeoutMs: 5_000,
    idleTimeoutMs: config.idleTimeout * 1000,
    reconnectWindowMs: config.reconnectWindow * 1000,
    stallTimeoutMs: config.stallTimeout * 1000,
    // WebPs only when asked (--thumbnails webp): they cost about as much again as the JPEGs (BENCHMARKS.md).
    thumbnails: config.thumbnails ? new Thumbnails({ ffmpegPath, ...(config.thumbnailWebp ? {} : { webp: false }) }) : undefined,
    // Copy-only ffmpeg per restream output (no re-encoding): see ingest/restream/ffmpeg-connection.ts.
    restreamConnect: ffmpegConnector(ffmpegPath, { caFile: config.restreamCaFile }),
  },
});

const rtmp = new RtmpServer({
  host: config.rtmpHost,
  port: config.rtmpPort,
  rtmps: config.rtmps,
  limits: config.rtmpLimits,
  decide: (request) => registry.decide(request),
  onConnectionRefused: ({ reason, detail, remote, connection }) => {
    // The gate never sees a stream name (it reads chunk headers, not commands): nothing secret here.
    log.warn({ remote, connection, reason }, `RTMP connection refused: ${detail}`);
    metrics.rtmpConnectionsRefused.inc({ reason });
  },
  onListenError: (error) => {
    const hint = error.code === 'EADDRINUSE' ? ' (is another sidecar running? set --rtmp-port / --rtmps-port)' : '';
    fatal(`cannot listen for RTMP: ${error.message}${hint}`);
  },
});
const rtmpListening = rtmp.listen();
metrics.observeRtmpGate(() => rtmp.gateStats());
if (!config.rtmpLimits) log.warn('UNGUARDED RTMP: no connection limits, timeouts or message checks (for measuring node-media-server only)');
const resumed = registry.resumeAfterRestart();

const api =
  config.apiPort === 0
    ? undefined
    : serve({ fetch: createOpsApi({ registry, metrics, adminToken: config.adminToken, mode: () => access.mode, playbackSecret: config.playbackSecret }).fetch, hostname: config.apiHost, port: config.apiPort });
api?.on('error', (error: NodeJS.ErrnoException) => {
  const hint = error.code === 'EADDRINUSE' ? ' (is another sidecar running? set --api-port, or 0 to turn it off)' : '';
  fatal(`cannot listen for the operations API on ${config.apiHost}:${config.apiPort}: ${error.message}${hint}`);
});
if (api && !config.adminToken) log.warn('ADMIN_TOKEN is not set: the operations API only answers /healthz');

// "Ready" only once every port listens: a port that cannot be had ends the process (fatal) instead.
await Promise.all([rtmpListening, ...(api ? [new Promise<void>((resolve) => (api.listening ? resolve() : api.once('listening', () => resolve())))] : [])]);

log.info(
  {
    ffmpeg: ffmpegPath,
    memory: describeMemoryInUse(memory),
    storage: describeStorage(config.storage),
    lowLatency: config.lowLatency && config.storage.kind === 'edge' ? `parts of ${config.chunkDuration} s` : 'off',
    ...accessSetup.facts,
    ...(resumed > 0 ? { resumedStreams: resumed } : {}),
    ...(config.rtmps ? { rtmps: `:${config.rtmps.port}` } : {}),
    ...(api ? { api: `http://${config.apiHost}:${config.apiPort}` } : {}),
  },
  `ingest ready: publish to rtmp://HOST:${config.rtmpPort}/live/${config.open ? 'NAME' : 'STREAM_KEY'}`,
);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info(`${signal}: ending live streams and stopping`);
  const timeout = setTimeout(() => {
    log.error(`streams did not end within ${SHUTDOWN_TIMEOUT_MS / 1000} s; exiting anyway`);
    process.exit(1);
  }, SHUTDOWN_TIMEOUT_MS);
  // Refuse newcomers first, then drop the publishers: each stream drains and ends its playlists.
  const ended = registry.close();
  rtmp.close();
  await ended;
  api?.close();
  clearTimeout(timeout);
  log.info('stopped');
  log.flush();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
