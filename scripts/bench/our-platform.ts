/**
 * Our platform as the benchmarks run it: the edge under `wrangler dev` (local R2 in a temporary
 * directory) or on Node (a folder for storage), and ingest sidecars in open mode uploading
 * through it, on free ports of 127.0.0.1.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startEdgeDev, startIngest, startNodeEdge } from '../lib/local-platform.ts';
import { freePort } from '../lib/free-port.ts';
import type { ManagedProcess } from '../lib/managed-process.ts';

export interface OurEdge {
  process: ManagedProcess;
  origin: string;
  secret: string;
}

export async function startOurEdge(dir: string, onLine?: (line: string) => void): Promise<OurEdge> {
  const port = await freePort();
  const secret = randomBytes(16).toString('hex');
  mkdirSync(dir, { recursive: true });
  const process = await startEdgeDev({ port, ingestSecret: secret, persistTo: join(dir, 'r2'), logLevel: 'warn', onLine });
  return { process, origin: `http://127.0.0.1:${port}`, secret };
}

/** The self-hosted edge (`npm run edge:node`), storing into a folder under `dir`: what issue 21 measures capacity with. */
export async function startOurNodeEdge(dir: string, onLine?: (line: string) => void): Promise<OurEdge> {
  const port = await freePort();
  const secret = randomBytes(16).toString('hex');
  mkdirSync(join(dir, 'media'), { recursive: true });
  const process = await startNodeEdge({ port, storageDir: join(dir, 'media'), ingestSecret: secret, onLine });
  return { process, origin: `http://127.0.0.1:${port}`, secret };
}

export interface OurSidecar {
  process: ManagedProcess;
  publishUrl(stream: string): string;
}

export interface OurSidecarOptions {
  extraArgs?: string[];
  onLine?: (line: string) => void;
  /** The operations API (with /metrics) on this port, needing this admin token; off without. */
  api?: { port: number; adminToken: string };
  /** Node's own flags for the sidecar instead of the launchers', e.g. V8 heap sizes to compare. */
  nodeFlags?: string[];
  /** More environment for the sidecar (e.g. allocator settings to compare). */
  env?: Record<string, string>;
}

/**
 * A sidecar uploading through `edge`. A stream ends as soon as its publisher leaves (no
 * reconnect window), so runs do not wait for each other.
 */
export async function startOurSidecar(edge: OurEdge, dir: string, options: OurSidecarOptions = {}): Promise<OurSidecar> {
  const rtmpPort = await freePort();
  mkdirSync(dir, { recursive: true });
  const process = await startIngest({
    rtmpPort,
    edgeUrl: edge.origin,
    ingestSecret: edge.secret,
    stateDir: join(dir, 'state'),
    extraArgs: ['--open', '--rtmp-host', '127.0.0.1', '--streams-file', join(dir, 'no-streams.json'), '--reconnect-window', '0', ...(options.extraArgs ?? [])],
    apiPort: options.api?.port,
    nodeFlags: options.nodeFlags,
    env: {
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'warn',
      ...(options.api ? { ADMIN_TOKEN: options.api.adminToken } : {}),
      ...options.env,
    },
    onLine: options.onLine,
  });
  return { process, publishUrl: (stream) => `rtmp://127.0.0.1:${rtmpPort}/live/${stream}` };
}

/** The playlist URLs viewers use on our edge. */
export const ourUrls = {
  /** The source rendition's media playlist: where a segment first becomes listed. */
  mediaPlaylist: (origin: string, stream: string) => `${origin}/live/${stream}/source/index.m3u8`,
  /** The multivariant playlist at the blog's URL. */
  multivariant: (origin: string, stream: string) => `${origin}/live/${stream}.m3u8`,
};
