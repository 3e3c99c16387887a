/**
 * Starts the platform's two processes on this machine, as `npm start` and the end-to-end tests
 * both need them: the edge under `wrangler dev` (local R2) and the ingest sidecar.
 */
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TIME_PATH } from '../../shared/time-api.ts';
import { applyLocalMigrations } from './d1-migrations.ts';
import { writeEdgeEnvFile } from './edge-env-file.ts';
import { ManagedProcess } from './managed-process.ts';

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

// wrangler's lines that only say this machine is offline.
const OFFLINE_NOISE = /Request\.cf|getaddrinfo ENOTFOUND|GetAddrInfoReqWrap|^\s*$/;

export interface EdgeDevOptions {
  port: number;
  ingestSecret: string;
  /** Verifies playback tokens of signed streams. */
  playbackSecret?: string;
  /** Bearer token of the management API (/api/v1/streams); unset: .dev.vars' or none. */
  adminToken?: string;
  /** More of the edge's settings, e.g. WEBHOOK_URLS and WEBHOOK_SECRET (in the same 0600 env file). */
  vars?: Record<string, string>;
  /** Where local R2 keeps its data; default: wrangler's .wrangler/state. */
  persistTo?: string;
  /** wrangler's log level; `info` logs every request. */
  logLevel?: 'debug' | 'info' | 'log' | 'warn' | 'error';
  onLine?: (line: string) => void;
}

/**
 * wrangler dev's environment. Its local observability collector (a worker of miniflare's that gets
 * every request's trace spans and writes them to SQLite, on by default since wrangler 4.16x) is off
 * unless X_LOCAL_OBSERVABILITY is set: it cost 2-3 ms of CPU per request (7.5-8.2 against
 * 5.5-5.8 ms; 2 000 requests took 1.6x as long), which every viewer request waits for on a busy
 * machine (BENCHMARKS.md, 2026-12-06 18:25 UTC).
 */
export function wranglerDevEnv(base: NodeJS.ProcessEnv, logLevel?: EdgeDevOptions['logLevel']): NodeJS.ProcessEnv {
  return { X_LOCAL_OBSERVABILITY: 'false', ...base, WRANGLER_SEND_METRICS: 'false', WRANGLER_LOG: base.WRANGLER_LOG ?? logLevel ?? 'info' };
}

export async function startEdgeDev(options: EdgeDevOptions): Promise<ManagedProcess> {
  // Secrets in a 0600 file, never on wrangler's command line (visible to every user in `ps`).
  const envFile = writeEdgeEnvFile({ INGEST_SECRET: options.ingestSecret, PLAYBACK_SECRET: options.playbackSecret, ADMIN_TOKEN: options.adminToken, ...options.vars }, join(PROJECT_ROOT, '.dev.vars'));
  // The stream registry's tables in the local D1 this edge will use.
  try {
    await applyLocalMigrations(PROJECT_ROOT, options.persistTo);
  } catch (error) {
    envFile.remove();
    throw error;
  }
  const args = ['dev', '--port', String(options.port), '--ip', '127.0.0.1', '--env-file', envFile.path];
  if (options.persistTo) args.push('--persist-to', options.persistTo);
  const edge = new ManagedProcess({
    name: 'edge',
    command: join(PROJECT_ROOT, 'node_modules', '.bin', 'wrangler'),
    args,
    cwd: PROJECT_ROOT,
    env: wranglerDevEnv(process.env, options.logLevel),
    onLine: (line) => {
      if (!OFFLINE_NOISE.test(line)) options.onLine?.(line);
    },
  });
  void edge.exited.then(() => envFile.remove());
  await waitUntil(edge, `edge on :${options.port}`, 90_000, () => answersAsOurEdge(options.port));
  return edge;
}

export interface IngestOptions {
  rtmpPort: number;
  /** With the default storage (the edge write API). */
  edgeUrl?: string;
  ingestSecret?: string;
  /** Port of the operations API; 0 (the default here) turns it off. */
  apiPort?: number;
  /** The sidecar's own state (its journal of open streams): one per sidecar, tests use their own. */
  stateDir: string;
  extraArgs?: string[];
  env?: NodeJS.ProcessEnv;
  onLine?: (line: string) => void;
  /** Node's own flags for the sidecar (it adds its young-generation size unless one is given: ingest/memory-allocator.ts). */
  nodeFlags?: string[];
  /** The checkout the sidecar runs from (default: this one); a benchmark compares two. */
  root?: string;
}

export async function startIngest(options: IngestOptions): Promise<ManagedProcess> {
  const ingest = new ManagedProcess({
    name: 'ingest',
    command: process.execPath,
    args: [
      ...(options.nodeFlags ?? []),
      join(options.root ?? PROJECT_ROOT, 'ingest', 'main.ts'),
      '--rtmp-port', String(options.rtmpPort),
      ...(options.edgeUrl ? ['--edge-url', options.edgeUrl] : []),
      '--api-port', String(options.apiPort ?? 0),
      '--state-dir', options.stateDir,
      ...(options.extraArgs ?? []),
    ],
    cwd: options.root ?? PROJECT_ROOT,
    env: {
      ...process.env,
      ...(options.ingestSecret ? { INGEST_SECRET: options.ingestSecret } : {}),
      ...options.env,
    },
    onLine: options.onLine,
  });
  await waitUntil(ingest, `RTMP on :${options.rtmpPort}`, 30_000, () => canConnect(options.rtmpPort));
  return ingest;
}

/**
 * Our edge answers on this port: its clock (`GET /time`, an ISO date near ours; see
 * shared/time-api.ts), which another program on the port (a dev server, a second platform's
 * proxy) does not serve. A front page answering 200 proved nothing: any web server does.
 */
export async function answersAsOurEdge(port: number): Promise<boolean> {
  const response = await fetch(`http://127.0.0.1:${port}${TIME_PATH}`, { signal: AbortSignal.timeout(2000) });
  const body = await response.text();
  const time = Date.parse(body.trim());
  return response.ok && /^\d{4}-\d{2}-\d{2}T/.test(body) && Math.abs(time - Date.now()) < EDGE_CLOCK_TOLERANCE_MS;
}

// The edge runs on this machine: its clock is ours, give or take a slow answer.
const EDGE_CLOCK_TOLERANCE_MS = 60_000;

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitUntil(process: ManagedProcess, what: string, timeoutMs: number, ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (process.hasExited) throw new Error(`${process.name} exited before ${what} was ready`);
    if (await ready().catch(() => false)) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  await process.stop();
  throw new Error(`${what} not ready after ${timeoutMs / 1000} s`);
}

export interface NodeEdgeOptions {
  port: number;
  storageDir: string;
  ingestSecret: string;
  playbackSecret?: string;
  onLine?: (line: string) => void;
}

/** The edge origin on Node (`npm run edge:node`), serving a folder. */
export async function startNodeEdge(options: NodeEdgeOptions): Promise<ManagedProcess> {
  const edge = new ManagedProcess({
    name: 'edge:node',
    command: process.execPath,
    args: [join(PROJECT_ROOT, 'edge', 'node-server.ts'), '--port', String(options.port), '--storage-dir', options.storageDir],
    cwd: PROJECT_ROOT,
    env: { ...process.env, INGEST_SECRET: options.ingestSecret, ...(options.playbackSecret ? { PLAYBACK_SECRET: options.playbackSecret } : {}) },
    onLine: options.onLine,
  });
  await waitUntil(edge, `Node edge on :${options.port}`, 30_000, () => answersAsOurEdge(options.port));
  return edge;
}

export interface DenoEdgeOptions {
  port: number;
  ingestSecret: string;
  s3: { endpoint: string; bucket: string; accessKeyId: string; secretAccessKey: string };
  onLine?: (line: string) => void;
}

/** The edge origin on Deno (the `deno` binary from npm), over an S3-compatible bucket. */
export async function startDenoEdge(options: DenoEdgeOptions): Promise<ManagedProcess> {
  const edge = new ManagedProcess({
    name: 'edge:deno',
    command: join(PROJECT_ROOT, 'node_modules', '.bin', 'deno'),
    args: ['run', '--allow-net', '--allow-env', '--allow-read', join(PROJECT_ROOT, 'edge', 'deno-server.ts')],
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      EDGE_PORT: String(options.port),
      INGEST_SECRET: options.ingestSecret,
      S3_ENDPOINT: options.s3.endpoint,
      S3_BUCKET: options.s3.bucket,
      S3_ACCESS_KEY_ID: options.s3.accessKeyId,
      S3_SECRET_ACCESS_KEY: options.s3.secretAccessKey,
      NO_COLOR: '1',
    },
    onLine: options.onLine,
  });
  await waitUntil(edge, `Deno edge on :${options.port}`, 60_000, () => answersAsOurEdge(options.port));
  return edge;
}
