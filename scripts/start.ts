/** `npm start`: the whole platform on this machine: edge (wrangler dev, local R2) + ingest sidecar. */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { Command, Option } from 'commander';
import { DEFAULT_STREAMS_FILE, DEVELOPMENT_INGEST_SECRET } from '../ingest/config.ts';
import { PlatformClient, type PlatformStream } from '../ingest/streams/platform-client.ts';
import { writePlatformFile } from '../ingest/streams/platform-file.ts';
import { StreamStore } from '../ingest/streams/stream-store.ts';
import { FfmpegNotFoundError, locateFfmpeg } from '../ingest/transcode/ffmpeg-binary.ts';
import { PROJECT_ROOT, startEdgeDev, startIngest } from './lib/local-platform.ts';
import type { ManagedProcess } from './lib/managed-process.ts';
import { busyPortMessage, firstBusyPort, nearbyFreePort, type PortUse } from './lib/port-check.ts';

const program = new Command('start')
  .description('Run the ingest sidecar and the edge origin locally; Ctrl-C (or SIGTERM) stops both.')
  .addOption(new Option('--rtmp-port <port>', 'RTMP port').env('RTMP_PORT').default('1935'))
  .addOption(new Option('--edge-port <port>', 'edge HTTP port (player pages, playlists)').env('EDGE_PORT').default('8080'))
  .addOption(new Option('--api-port <port>', "the sidecar's operations API port on 127.0.0.1 (0: off)").env('API_PORT').default('8935'))
  .addOption(new Option('--state-dir <dir>', "the sidecar's journal of open streams").env('STATE_DIR').default('.ingest-state'))
  .addOption(new Option('--persist-to <dir>', "where wrangler dev keeps local R2 and the Durable Objects' data (default: .wrangler/state)").env('EDGE_PERSIST_TO'))
  .parse();
const options = program.opts<{ rtmpPort: string; edgePort: string; apiPort: string; stateDir: string; persistTo?: string }>();

function port(value: string, flag: string, allowOff = false): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < (allowOff ? 0 : 1) || number > 65_535) program.error(`error: ${flag} must be a port number${allowOff ? ' (0: off)' : ''}, not "${value}"`);
  return number;
}
const rtmpPort = port(options.rtmpPort, '--rtmp-port');
const edgePort = port(options.edgePort, '--edge-port');
const apiPort = port(options.apiPort, '--api-port', true);

// Before anything starts: a busy port fails here in one line, not after the edge or the sidecar
// has come up (and a readiness check has perhaps taken the other program's answer for ours).
const ports: PortUse[] = [
  { what: 'edge', port: edgePort, flag: '--edge-port' },
  { what: 'RTMP', port: rtmpPort, flag: '--rtmp-port' },
  { what: 'operations API', port: apiPort, flag: '--api-port' },
];
const duplicate = ports.find((use, index) => use.port !== 0 && ports.findIndex((other) => other.port === use.port) !== index);
if (duplicate) program.error(`error: ${duplicate.flag} ${duplicate.port} is also given to another of --edge-port, --rtmp-port, --api-port`);
const busy = await firstBusyPort(ports);
if (busy) program.error(`error: ${busyPortMessage(busy, await nearbyFreePort(busy.port, new Set(ports.map((use) => use.port))))}`);

try {
  locateFfmpeg();
} catch (error) {
  if (error instanceof FfmpegNotFoundError) program.error(`error: ${error.message}`);
  throw error;
}

/** The write API secret: INGEST_SECRET, else the one in .dev.vars (what `wrangler dev` reads), else the development default. */
function ingestSecret(): { secret: string; source: string } {
  if (process.env.INGEST_SECRET) return { secret: process.env.INGEST_SECRET, source: 'from INGEST_SECRET' };
  const devVars = join(PROJECT_ROOT, '.dev.vars');
  const fromFile = existsSync(devVars) ? parseEnv(readFileSync(devVars, 'utf8')).INGEST_SECRET : undefined;
  if (fromFile) return { secret: fromFile, source: 'from .dev.vars' };
  return { secret: DEVELOPMENT_INGEST_SECRET, source: `"${DEVELOPMENT_INGEST_SECRET}", the development default (set INGEST_SECRET or .dev.vars to change it)` };
}
const { secret, source: secretSource } = ingestSecret();

// The management API's token (/api/v1/streams): ADMIN_TOKEN, else a new random one for this run,
// handed to the edge in its 0600 env file and to `npm run streams` in the state folder (0600).
const adminToken = process.env.ADMIN_TOKEN || randomBytes(24).toString('base64url');
const stateDir = resolve(PROJECT_ROOT, options.stateDir);

// Streams configured with `npm run streams` while no platform ran are in streams.json: imported
// into the platform's registry at every start (names already there are skipped: nothing changes twice).
const streamStore = new StreamStore(resolve(PROJECT_ROOT, process.env.STREAMS_FILE || DEFAULT_STREAMS_FILE));
function readFileStreams() {
  try {
    return streamStore.list();
  } catch (error) {
    console.error(`[start] ${error instanceof Error ? error.message : String(error)}`);
    return process.exit(1);
  }
}
const fileStreams = readFileStreams();
let configuredStreams: PlatformStream[] = [];
let removePlatformFile: (() => void) | undefined;
const prefixed = (tag: string) => (line: string) => console.log(`${tag} ${line}`);
const running: ManagedProcess[] = [];
let stopping = false;

let stopped: Promise<never> | undefined;
/** Stops what runs, once: every later call (a second signal, a child that exits meanwhile) waits on the first. */
function stopAll(code: number): Promise<never> {
  stopping = true;
  stopped ??= (async () => {
    // The sidecar first: it ends the live playlists through the edge, which must still be up.
    for (const child of [...running].reverse()) await child.stop();
    removePlatformFile?.();
    process.exit(code);
  })();
  return stopped;
}
// One Ctrl-C can arrive more than once (the terminal signals npm, its shell and us; npm forwards
// it too), and `kill` of npm's process reaches us through scripts/node24.mjs: each means "stop".
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void stopAll(0));

function watch(child: ManagedProcess): void {
  running.push(child);
  void child.exited.then(({ code, signal }) => {
    if (stopping) return;
    console.error(`[start] ${child.name} stopped (${signal ?? `exit code ${code}`}); stopping everything`);
    void stopAll(1);
  });
}

try {
  console.log(`[start] starting the edge (wrangler dev, local R2) on :${edgePort}…`);
  watch(
    await startEdgeDev({
      port: edgePort,
      ingestSecret: secret,
      playbackSecret: process.env.PLAYBACK_SECRET || undefined,
      adminToken,
      // Webhooks of the stream events (delivered through wrangler dev's local queue), when set.
      vars: Object.fromEntries(['WEBHOOK_URLS', 'WEBHOOK_SECRET'].flatMap((name) => (process.env[name] ? [[name, process.env[name]!]] : []))),
      ...(options.persistTo ? { persistTo: resolve(PROJECT_ROOT, options.persistTo) } : {}),
      logLevel: 'warn',
      onLine: prefixed('[edge]  '),
    }),
  );
  const platform = new PlatformClient({ edgeUrl: `http://127.0.0.1:${edgePort}`, adminToken });
  if (fileStreams.length > 0) {
    const { imported, skipped } = await platform.importStreams(fileStreams);
    if (imported.length > 0) console.log(`[start] imported ${imported.length} stream(s) from ${streamStore.path} into the platform registry (${imported.join(', ')}); ${skipped.length} already there`);
  }
  configuredStreams = await platform.list();
  removePlatformFile = writePlatformFile(stateDir, { edgeUrl: `http://127.0.0.1:${edgePort}`, adminToken });
  console.log(`[start] starting the ingest sidecar on RTMP :${rtmpPort}…`);
  watch(
    await startIngest({
      rtmpPort,
      edgeUrl: `http://127.0.0.1:${edgePort}`,
      ingestSecret: secret,
      env: { LOG_FORMAT: process.env.LOG_FORMAT ?? 'pretty' },
      apiPort,
      stateDir,
      // Publishes are decided by the platform's registry; open mode while it holds no stream (what the blog does).
      extraArgs: ['--stream-registry', 'edge', ...(configuredStreams.length === 0 ? ['--open'] : [])],
      onLine: prefixed('[ingest]'),
    }),
  );
} catch (error) {
  console.error(`[start] ${error instanceof Error ? error.message : String(error)}`);
  await stopAll(1);
}

const edge = `http://localhost:${edgePort}`;
const open = configuredStreams.length === 0;
const example = open ? 'test' : configuredStreams[0]!.playbackId;
const lines = [
  open
    ? 'OPEN MODE: no streams in the platform registry, so any stream name publishes without a key (local development only)'
    : `${configuredStreams.length} stream(s) in the platform registry: publishing needs a stream key (npm run streams -- list)`,
  '',
  `Publish   server  rtmp://localhost:${rtmpPort}/live     stream key  ${open ? 'test (any name)' : 'yours (shown by `npm run streams -- add/rotate-key`)'}`,
  `          (OBS: Settings > Stream > Service "Custom…"; ffmpeg: -f flv rtmp://localhost:${rtmpPort}/live/${open ? 'test' : 'STREAM_KEY'})`,
  ...(open ? ['          or run: npm run publish:test'] : [`          or run: npm run publish:test -- --url rtmp://localhost:${rtmpPort}/live/STREAM_KEY`]),
  `Watch     ${edge}/watch/${example}`,
  `Playlist  ${edge}/live/${example}/index.m3u8   (VLC: Media > Open Network Stream)`,
  ...(open ? [`Blog URLs rtmp://localhost:${rtmpPort}/stream/colors  ->  ${edge}/live/colors.m3u8`] : []),
  ...(apiPort === 0 ? [] : [`Ops API   http://127.0.0.1:${apiPort}/healthz${process.env.ADMIN_TOKEN ? ' (/streams, /metrics with ADMIN_TOKEN)' : ' (set ADMIN_TOKEN for /streams and /metrics)'}`]),
  `Streams   npm run streams -- add NAME | list | rotate-key NAME | disable NAME   (management API ${edge}/api/v1/streams,`,
  `          admin token ${process.env.ADMIN_TOKEN ? 'from ADMIN_TOKEN' : `generated for this run, in ${stateDir}/platform.json`})`,
  `Ingest secret (sidecar -> edge write API): ${secretSource}`,
];
console.log(`\n  ┌─ Live streaming platform, running locally ${'─'.repeat(40)}\n${lines.map((line) => `  │ ${line}`).join('\n')}\n  └─ Ctrl-C stops both.\n`);
