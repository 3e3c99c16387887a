/** `npm run ingest`: runs the ingest sidecar until SIGINT/SIGTERM. */
import { parseIngestConfig } from './config.ts';
import { createLogger } from './log.ts';
import { StreamRegistry } from './pipeline/stream-registry.ts';
import { RtmpServer } from './rtmp/rtmp-server.ts';
import { DEFAULT_LADDER } from './transcode/ladder.ts';
import { FfmpegNotFoundError, locateFfmpeg } from './transcode/ffmpeg-binary.ts';
import { EdgeObjectStore } from './upload/edge-object-store.ts';
import { RetryingObjectStore } from './upload/retrying-object-store.ts';

const SHUTDOWN_TIMEOUT_MS = 10_000;

const config = parseIngestConfig(process.argv.slice(2));
const log = createLogger({ level: config.logLevel, format: config.logFormat });

let ffmpegPath: string;
try {
  ffmpegPath = locateFfmpeg();
} catch (error) {
  if (!(error instanceof FfmpegNotFoundError)) throw error;
  console.error(`ingest: ${error.message}`);
  process.exit(1);
}

if (config.usingDevelopmentSecret) {
  log.warn('INGEST_SECRET is not set: using the development secret, which only a local `wrangler dev` edge accepts');
}

const store = new RetryingObjectStore(
  new EdgeObjectStore({ baseUrl: config.edgeUrl, secret: config.ingestSecret, timeoutMs: 10_000 }),
  {
    attempts: 5,
    initialDelayMs: 250,
    onRetry: (key, attempt, error) => log.warn({ key, attempt, err: error }, 'storage write failed; retrying'),
  },
);

const registry = new StreamRegistry({
  store,
  log,
  settings: {
    ffmpegPath,
    renditions: DEFAULT_LADDER,
    targetSegmentDuration: config.segmentDuration,
    chunkDuration: config.chunkDuration,
    windowSegments: config.playlistWindow,
    drainTimeoutMs: 5_000,
  },
});

const rtmp = new RtmpServer({
  host: config.rtmpHost,
  port: config.rtmpPort,
  decide: (request) => registry.decide(request),
  onListenError: (error) => {
    const hint = error.code === 'EADDRINUSE' ? ' (is another sidecar running? set --rtmp-port or RTMP_PORT)' : '';
    console.error(`ingest: cannot listen for RTMP on ${config.rtmpHost}:${config.rtmpPort}: ${error.message}${hint}`);
    process.exit(1);
  },
});
rtmp.listen();
log.info({ ffmpeg: ffmpegPath, edge: config.edgeUrl }, `ingest ready: publish to rtmp://HOST:${config.rtmpPort}/live/NAME`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info(`${signal}: ending live streams and stopping`);
  rtmp.close();
  const timeout = setTimeout(() => {
    log.error(`streams did not end within ${SHUTDOWN_TIMEOUT_MS} ms; exiting anyway`);
    process.exit(1);
  }, SHUTDOWN_TIMEOUT_MS);
  await registry.close();
  clearTimeout(timeout);
  log.flush();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
