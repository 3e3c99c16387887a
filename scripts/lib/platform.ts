/**
 * The whole platform on this machine in one call, as the end-to-end tests and the scripts (soak,
 * hostile:rtmp, bench) run it: an edge (`wrangler dev`, Node or Deno) and the ingest sidecar on
 * free ports of 127.0.0.1, with a shared random secret and a folder of their own, their output
 * kept as tagged lines, restartable, and stopped (folder removed) in one call.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';
import { startDenoEdge, startEdgeDev, startIngest, startNodeEdge, type DenoEdgeOptions, type EdgeDevOptions } from './local-platform.ts';
import type { ManagedProcess } from './managed-process.ts';

export type EdgeKind = 'wrangler' | 'node' | 'deno';

export interface PlatformIngestOptions {
  /**
   * The stream store (keyed publishing). Without it the sidecar runs in open mode with an empty
   * store of its own in the platform's folder (never the project's streams.json).
   */
  streamsFile?: string;
  /** Open mode; default: when no `streamsFile` is given. */
  open?: boolean;
  /** --reconnect-window in seconds; the sidecar's default (30) when not given. */
  reconnectWindow?: number;
  /** The operations API on a free port (`apiUrl`); its ADMIN_TOKEN goes in `env`. */
  api?: boolean;
  /** More command-line flags (storage, ladder, timeouts…). */
  args?: string[];
  /** More environment, over `LOG_FORMAT=json`. */
  env?: NodeJS.ProcessEnv;
  /** Node's own flags for the sidecar. */
  nodeFlags?: string[];
  /** Where the sidecar uploads instead of the edge itself (e.g. a fault proxy in front of it). */
  edgeUrl?: string;
  /** The checkout the sidecar runs from (default: this one). */
  root?: string;
}

export interface PlatformOptions {
  /** Which edge serves viewers; `none`: the sidecar stores by itself (its storage flags in `ingest.args`). */
  edge: EdgeKind | 'none';
  /** The sidecar's options; `false`: none started here (start one with `startIngest`). */
  ingest: PlatformIngestOptions | false;
  /** The platform's folder (R2 state, media, sidecar state); default: a new temporary one. Either way stop() removes it. */
  dir?: string;
  /** Name prefix of the temporary folder. */
  dirPrefix?: string;
  /** Shared by the edge and the sidecar; default: random. */
  ingestSecret?: string;
  /** The edge verifies playback tokens of signed streams with it. */
  playbackSecret?: string;
  /** wrangler's log level (`wrangler` edge). */
  edgeLogLevel?: EdgeDevOptions['logLevel'];
  /** The bucket the Deno edge reads (`deno` edge). */
  s3?: DenoEdgeOptions['s3'];
  /**
   * Each line a process prints, with its tag (`edge`, `edge:node`, `edge:deno`, `ingest`, or a
   * sidecar's own name). Default: kept in `lines` (a long run should pass its own, to a file).
   */
  onLine?: (tag: string, line: string) => void;
  /** The array `lines` is: one the caller already holds (to save it even when start-up fails). */
  lines?: string[];
}

export interface ExtraIngestOptions extends PlatformIngestOptions {
  /** Its tag in the log lines; default `ingest`. */
  name?: string;
  rtmpPort?: number;
  /** Default: the platform's sidecar state folder (a second sidecar there is refused: ingest/state). */
  stateDir?: string;
  ingestSecret?: string;
}

export interface Platform {
  dir: string;
  ingestSecret: string;
  /** The edge's origin (`http://127.0.0.1:PORT`); empty without an edge. */
  edgeUrl: string;
  /** The sidecar's RTMP application URL (`rtmp://127.0.0.1:PORT/live`). */
  rtmpUrl: string;
  /** The sidecar's operations API (a sidecar started with `api` opens it). */
  apiUrl: string;
  ports: { edge: number | undefined; rtmp: number; api: number };
  /** Every process's output, `[tag] line`, in arrival order (unless `onLine` was given). */
  lines: string[];
  /** One process's own lines, untagged (e.g. the sidecar's JSON log): an array that keeps growing. */
  linesOf(tag: string): string[];
  edge: ManagedProcess | undefined;
  /** The platform's sidecar (the latest one `restartIngest` started). */
  ingest: ManagedProcess | undefined;
  /** Where a publisher sends `stream` (`stream` is an alias of the `live` application: the blog's URL). */
  publishUrl(stream: string, application?: 'live' | 'stream'): string;
  /** Starts the platform's sidecar if none yet (with these options instead of the platform's), or another one (by `name`), stopped by stop(). */
  startIngest(options?: ExtraIngestOptions): Promise<ManagedProcess>;
  /** Stops the sidecar (if it still runs) and starts it again with the same options, ports and folder. */
  restartIngest(): Promise<ManagedProcess>;
  /** Stops the edge, waits `downForMs` (an outage), and starts it again on the same port and storage. */
  restartEdge(options?: { downForMs?: number; tag?: string }): Promise<ManagedProcess>;
  /** Stops every process it started (sidecars first) and removes its folder. */
  stop(): Promise<void>;
}

export async function startPlatform(options: PlatformOptions): Promise<Platform> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), options.dirPrefix ?? 'platform-'));
  mkdirSync(dir, { recursive: true });
  const ingestSecret = options.ingestSecret ?? randomBytes(16).toString('hex');
  const lines = options.lines ?? [];
  const untagged = new Map<string, string[]>();
  const linesOf = (tag: string): string[] => {
    if (!untagged.has(tag)) untagged.set(tag, []);
    return untagged.get(tag)!;
  };
  const onLine = (tag: string) => (line: string) => {
    if (options.onLine) return options.onLine(tag, line);
    lines.push(`[${tag}] ${line}`);
    linesOf(tag).push(line);
  };
  const edgePort = options.edge === 'none' ? undefined : await freePort();
  const rtmpPort = await freePort();
  // Taken whether or not a sidecar opens its operations API (`api`): one started later may.
  const apiPort = await freePort();
  const edgeUrl = edgePort ? `http://127.0.0.1:${edgePort}` : '';
  const sidecars: ManagedProcess[] = [];
  let ingestOptions: ExtraIngestOptions | undefined = options.ingest || undefined;

  const launchEdge = async (tag?: string): Promise<ManagedProcess | undefined> => {
    if (!edgePort) return undefined;
    switch (options.edge) {
      case 'wrangler':
        return startEdgeDev({ port: edgePort, ingestSecret, playbackSecret: options.playbackSecret, persistTo: join(dir, 'r2'), logLevel: options.edgeLogLevel, onLine: onLine(tag ?? 'edge') });
      case 'node':
        return startNodeEdge({ port: edgePort, storageDir: join(dir, 'media'), ingestSecret, playbackSecret: options.playbackSecret, onLine: onLine(tag ?? 'edge:node') });
      case 'deno':
        if (!options.s3) throw new Error('the Deno edge needs its bucket (s3)');
        return startDenoEdge({ port: edgePort, ingestSecret, s3: options.s3, onLine: onLine(tag ?? 'edge:deno') });
    }
  };

  const launchIngest = async (extra: ExtraIngestOptions): Promise<ManagedProcess> => {
    const open = extra.open ?? extra.streamsFile === undefined;
    const sidecar = await startIngest({
      rtmpPort: extra.rtmpPort ?? rtmpPort,
      edgeUrl: extra.edgeUrl ?? (edgeUrl || undefined),
      ingestSecret: extra.ingestSecret ?? (extra.edgeUrl || edgeUrl ? ingestSecret : undefined),
      apiPort: extra.api ? apiPort : undefined,
      stateDir: extra.stateDir ?? join(dir, 'state'),
      extraArgs: [
        ...(open ? ['--open'] : []),
        '--streams-file', extra.streamsFile ?? join(dir, 'none.json'),
        ...(extra.reconnectWindow === undefined ? [] : ['--reconnect-window', String(extra.reconnectWindow)]),
        ...(extra.args ?? []),
      ],
      env: { LOG_FORMAT: 'json', ...extra.env },
      nodeFlags: extra.nodeFlags,
      root: extra.root,
      onLine: onLine(extra.name ?? 'ingest'),
    });
    sidecars.push(sidecar);
    return sidecar;
  };

  const platform: Platform = {
    dir,
    ingestSecret,
    edgeUrl,
    rtmpUrl: `rtmp://127.0.0.1:${rtmpPort}/live`,
    apiUrl: `http://127.0.0.1:${apiPort}`,
    ports: { edge: edgePort, rtmp: rtmpPort, api: apiPort },
    lines,
    linesOf,
    edge: undefined,
    ingest: undefined,
    publishUrl: (stream, application = 'live') => `rtmp://127.0.0.1:${rtmpPort}/${application}/${stream}`,
    startIngest: async (extra) => {
      if (platform.ingest || extra?.name) return launchIngest(extra ?? {});
      ingestOptions = extra ?? ingestOptions ?? {};
      platform.ingest = await launchIngest(ingestOptions);
      return platform.ingest;
    },
    restartIngest: async () => {
      await platform.ingest?.stop();
      platform.ingest = await launchIngest(ingestOptions ?? {});
      return platform.ingest;
    },
    restartEdge: async ({ downForMs = 0, tag } = {}) => {
      await platform.edge?.stop();
      if (downForMs > 0) await new Promise((resolve) => setTimeout(resolve, downForMs));
      platform.edge = await launchEdge(tag);
      return platform.edge!;
    },
    stop: async () => {
      for (const sidecar of [...sidecars].reverse()) await sidecar.stop();
      await platform.edge?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    platform.edge = await launchEdge();
    if (options.ingest) platform.ingest = await launchIngest(options.ingest);
  } catch (error) {
    await platform.stop();
    throw error;
  }
  return platform;
}
