/**
 * Our platform as the benchmarks run it: the edge under `wrangler dev` (local R2 in a temporary
 * directory) or on Node (a folder for storage), and ingest sidecars in open mode uploading
 * through it, on free ports of 127.0.0.1; each started by startPlatform (scripts/lib/platform.ts).
 */
import type { ManagedProcess } from '../lib/managed-process.ts';
import { startPlatform, type EdgeKind } from '../lib/platform.ts';

export interface OurEdge {
  process: ManagedProcess;
  origin: string;
  secret: string;
}

async function startEdgeOnly(edge: Exclude<EdgeKind, 'deno'>, dir: string, onLine?: (line: string) => void): Promise<OurEdge> {
  const platform = await startPlatform({ edge, dir, edgeLogLevel: 'warn', ingest: false, onLine: (_tag, line) => onLine?.(line) });
  return { process: platform.edge!, origin: platform.edgeUrl, secret: platform.ingestSecret };
}

export function startOurEdge(dir: string, onLine?: (line: string) => void): Promise<OurEdge> {
  return startEdgeOnly('wrangler', dir, onLine);
}

/** The self-hosted edge (`npm run edge:node`), storing into a folder under `dir`: what issue 21 measures capacity with. */
export function startOurNodeEdge(dir: string, onLine?: (line: string) => void): Promise<OurEdge> {
  return startEdgeOnly('node', dir, onLine);
}

export interface OurSidecar {
  process: ManagedProcess;
  publishUrl(stream: string): string;
  /** Its operations API (/metrics), when started with `api`. */
  apiUrl?: string;
}

export interface OurSidecarOptions {
  extraArgs?: string[];
  onLine?: (line: string) => void;
  /** The operations API (with /metrics), needing this admin token; off without. */
  api?: { adminToken: string };
  /** Node's own flags for the sidecar instead of the launchers', e.g. V8 heap sizes to compare. */
  nodeFlags?: string[];
  /** More environment for the sidecar (e.g. allocator settings to compare). */
  env?: Record<string, string>;
  /** Keyed publishing from this streams file instead of open mode. */
  streamsFile?: string;
  /** The checkout the sidecar runs from (default: this one). */
  root?: string;
}

/**
 * A sidecar uploading through `edge`. A stream ends as soon as its publisher leaves (no
 * reconnect window), so runs do not wait for each other.
 */
export async function startOurSidecar(edge: OurEdge, dir: string, options: OurSidecarOptions = {}): Promise<OurSidecar> {
  const platform = await startPlatform({
    edge: 'none',
    dir,
    ingestSecret: edge.secret,
    onLine: (_tag, line) => options.onLine?.(line),
    ingest: {
      edgeUrl: edge.origin,
      streamsFile: options.streamsFile,
      reconnectWindow: 0,
      api: options.api !== undefined,
      args: ['--rtmp-host', '127.0.0.1', ...(options.extraArgs ?? [])],
      nodeFlags: options.nodeFlags,
      root: options.root,
      env: { LOG_LEVEL: 'warn', ...(options.api ? { ADMIN_TOKEN: options.api.adminToken } : {}), ...options.env },
    },
  });
  return { process: platform.ingest!, publishUrl: (stream) => platform.publishUrl(stream), ...(options.api ? { apiUrl: platform.apiUrl } : {}) };
}

/** The playlist URLs viewers use on our edge. */
export const ourUrls = {
  /** The source rendition's media playlist: where a segment first becomes listed. */
  mediaPlaylist: (origin: string, stream: string) => `${origin}/live/${stream}/source/index.m3u8`,
  /** The multivariant playlist at the blog's URL. */
  multivariant: (origin: string, stream: string) => `${origin}/live/${stream}.m3u8`,
};
