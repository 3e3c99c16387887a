/** The sidecar's configuration: command-line flags first, then environment variables, then defaults. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { isLoopbackHost } from '../shared/loopback.ts';
import { DEVELOPMENT_INGEST_SECRET } from '../shared/write-api.ts';
import type { RtmpLimits } from './rtmp/connection-gate.ts';
import { DEFAULT_LADDER_CONFIG, parseRungs, type LadderConfig } from './transcode/ladder.ts';

export type StorageConfig =
  | { kind: 'edge'; edgeUrl: string; secret: string; usingDevelopmentSecret: boolean }
  | { kind: 's3'; endpoint: string; bucket: string; region: string; accessKeyId: string; secretAccessKey: string; pathStyle: boolean }
  | { kind: 'fs'; dir: string };

export interface IngestConfig {
  storage: StorageConfig;
  rtmpHost: string;
  rtmpPort: number;
  rtmps: { port: number; certFile: string; keyFile: string } | undefined;
  /** undefined: node-media-server unguarded (`--unguarded-rtmp`, for measuring only). */
  rtmpLimits: RtmpLimits | undefined;
  apiHost: string;
  apiPort: number;
  adminToken: string | undefined;
  /** Mints playback tokens for signed streams (the edge verifies them with the same secret). */
  playbackSecret: string | undefined;
  open: boolean;
  streamsFile: string;
  stateDir: string;
  segmentDuration: number;
  chunkDuration: number;
  /** Announce chunks as low-latency HLS parts (with the edge write API only). */
  lowLatency: boolean;
  ladder: LadderConfig;
  playlistWindow: number;
  retention: 'window' | 'all';
  idleTimeout: number;
  reconnectWindow: number;
  stallTimeout: number;
  logLevel: string;
  logFormat: 'pretty' | 'json' | undefined;
}

/** Shared with `npm start` and `.dev.vars.example`; only a local development edge accepts it (defined in shared/write-api.ts). */
export { DEVELOPMENT_INGEST_SECRET };
export const DEFAULT_STREAMS_FILE = 'streams.json';

function integer(min: number, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    }
    return parsed;
  };
}

function seconds(min: number, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`expected seconds from ${min} to ${max}`);
    }
    return parsed;
  };
}

const X264_PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow'];

const KIB = 1024;
const MIB = 1024 * 1024;

/** Bytes, plain or with a KiB/MiB suffix (`8MiB`). */
function bytes(min: number, max: number) {
  return (value: string): number => {
    const match = /^(\d+)\s*(KiB|MiB)?$/i.exec(value.trim());
    const unit = match?.[2]?.toLowerCase();
    const parsed = match ? Number(match[1]) * (unit === 'mib' ? MIB : unit === 'kib' ? KIB : 1) : Number.NaN;
    if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`expected bytes from ${min} to ${max} (a plain number, or with KiB or MiB)`);
    }
    return parsed;
  };
}

function rungs(value: string) {
  try {
    return parseRungs(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function url(value: string): string {
  try {
    const parsed = new URL(value);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error();
    return parsed.origin;
  } catch {
    throw new InvalidArgumentError('expected an http(s) URL such as http://127.0.0.1:8080');
  }
}

function flag(value: string | undefined): boolean {
  return value !== undefined && ['1', 'true', 'yes'].includes(value.toLowerCase());
}

export function ingestCommand(): Command {
  return new Command('ingest')
    .description('The ingest sidecar: accepts RTMP(S) publishers, packages CMAF + HLS, uploads to storage.')
    .addOption(new Option('--open', 'open mode: any stream name publishes, no key (local development only; env INGEST_OPEN=1)'))
    .addOption(new Option('--streams-file <path>', 'the stream store (npm run streams)').env('STREAMS_FILE').default(DEFAULT_STREAMS_FILE))
    .addOption(new Option('--state-dir <path>', 'where the sidecar records its open streams (to take them up after a crash)').env('STATE_DIR').default('.ingest-state'))
    .addOption(new Option('--rtmp-host <host>', 'address to accept RTMP(S) on').env('RTMP_HOST').default('0.0.0.0'))
    .addOption(new Option('--rtmp-port <port>', 'RTMP port').env('RTMP_PORT').default(1935).argParser(integer(1, 65535)))
    .addOption(new Option('--rtmps-port <port>', 'RTMPS port (needs --tls-cert and --tls-key)').env('RTMPS_PORT').default(1936).argParser(integer(1, 65535)))
    .addOption(new Option('--tls-cert <path>', 'PEM certificate (chain) for RTMPS').env('RTMPS_CERT'))
    .addOption(new Option('--tls-key <path>', 'PEM private key for RTMPS').env('RTMPS_KEY'))
    .addOption(new Option('--api-host <host>', 'address of the operations API').env('API_HOST').default('127.0.0.1'))
    .addOption(new Option('--api-port <port>', 'port of the operations API (0: off)').env('API_PORT').default(8935).argParser(integer(0, 65535)))
    .addOption(new Option('--storage <kind>', 'where streams are stored: the edge write API, an S3-compatible bucket, or a folder').env('STORAGE').default('edge').choices(['edge', 's3', 'fs']))
    .addOption(new Option('--edge-url <url>', 'with --storage edge: the edge origin whose write API stores the stream (https unless on this machine)').env('EDGE_URL').default('http://127.0.0.1:8080').argParser(url))
    .addOption(new Option('--insecure-edge', 'allow a plain http:// --edge-url on another machine (write credentials then cross the network in clear text)'))
    .addOption(new Option('--s3-endpoint <url>', 'with --storage s3: the S3 API endpoint (R2: https://ACCOUNT.r2.cloudflarestorage.com)').env('S3_ENDPOINT').argParser(url))
    .addOption(new Option('--s3-bucket <name>', 'with --storage s3: the bucket').env('S3_BUCKET'))
    .addOption(new Option('--s3-region <region>', 'with --storage s3: the region (R2: auto)').env('S3_REGION').default('auto'))
    .addOption(new Option('--s3-virtual-hosted', 'with --storage s3: bucket in the host name instead of the path'))
    .addOption(new Option('--storage-dir <path>', 'with --storage fs: the folder').env('STORAGE_DIR').default('media'))
    .addOption(new Option('--segment-duration <seconds>', 'target segment duration').env('SEGMENT_DURATION').default(2).argParser(seconds(1, 10)))
    .addOption(new Option('--chunk-duration <seconds>', 'longest CMAF chunk inside a segment: the low-latency HLS part target').env('CHUNK_DURATION').default(0.333).argParser(seconds(0.1, 2)))
    .addOption(new Option('--low-latency <mode>', 'on: announce every chunk to the edge as a low-latency HLS part (needs --storage edge); off: segments only').env('LOW_LATENCY').default('on').choices(['on', 'off']))
    .addOption(
      new Option('--ladder <rungs>', 'encoded renditions below the source, HEIGHT:BITRATE,... (each made only when shorter than the source; "none": the source alone)')
        .env('LADDER')
        .default('1080:5000k,720:2800k,480:1400k,360:800k')
        .argParser(rungs),
    )
    .addOption(new Option('--passthrough <mode>', 'auto: pass the source through as the top rendition when its codec and keyframes fit; never: always encode it').env('PASSTHROUGH').default('auto').choices(['auto', 'never']))
    .addOption(new Option('--x264-preset <preset>', 'libx264 preset of encoded renditions').env('X264_PRESET').default(DEFAULT_LADDER_CONFIG.preset).choices(X264_PRESETS))
    .addOption(new Option('--audio-bitrate <bits>', 'AAC bitrate of the audio rendition, bits/s').env('AUDIO_BITRATE').default(DEFAULT_LADDER_CONFIG.audio.bitrate).argParser(integer(32_000, 512_000)))
    .addOption(new Option('--playlist-window <segments>', 'segments listed in a live playlist').env('PLAYLIST_WINDOW').default(10).argParser(integer(3, 10000)))
    .addOption(
      new Option('--retention <mode>', 'window: delete media a window after it leaves the live playlist; all: keep everything, and an ended stream lists its whole recording (VOD)')
        .env('RETENTION')
        .default('window')
        .choices(['window', 'all']),
    )
    .addOption(new Option('--idle-timeout <seconds>', 'disconnect a publisher that sends nothing this long').env('IDLE_TIMEOUT').default(10).argParser(seconds(2, 300)))
    .addOption(new Option('--reconnect-window <seconds>', 'a publisher reconnecting within this continues its stream (0: streams end at once)').env('RECONNECT_WINDOW').default(30).argParser(seconds(0, 3600)))
    .addOption(new Option('--stall-timeout <seconds>', 'restart an ffmpeg that writes nothing this long while fed').env('STALL_TIMEOUT').default(10).argParser(seconds(2, 300)))
    .addOption(new Option('--rtmp-max-connections <n>', 'open RTMP(S) connections at most, all peers together').env('RTMP_MAX_CONNECTIONS').default(200).argParser(integer(1, 100_000)))
    .addOption(new Option('--rtmp-max-connections-per-ip <n>', 'open RTMP(S) connections at most from one IPv4 address or IPv6 /64').env('RTMP_MAX_CONNECTIONS_PER_IP').default(10).argParser(integer(1, 100_000)))
    .addOption(new Option('--rtmp-handshake-timeout <seconds>', 'a connection must finish the RTMP handshake (and TLS) this soon').env('RTMP_HANDSHAKE_TIMEOUT').default(5).argParser(seconds(0.5, 60)))
    .addOption(new Option('--rtmp-publish-timeout <seconds>', 'a connection must have its publish accepted this soon, or it is dropped').env('RTMP_PUBLISH_TIMEOUT').default(15).argParser(seconds(1, 300)))
    .addOption(new Option('--rtmp-max-message <bytes>', 'largest audio/video/data message a publisher may announce (a keyframe)').env('RTMP_MAX_MESSAGE').default(8 * MIB).argParser(bytes(64 * KIB, 16 * MIB - 1)))
    .addOption(new Option('--rtmp-max-chunk-streams <n>', 'RTMP chunk stream ids one connection may use').env('RTMP_MAX_CHUNK_STREAMS').default(16).argParser(integer(4, 320)))
    .addOption(new Option('--rtmp-max-publisher-memory <bytes>', 'message buffers of one publisher, all chunk streams together').env('RTMP_MAX_PUBLISHER_MEMORY').default(20 * MIB).argParser(bytes(128 * KIB, 1024 * MIB)))
    .addOption(new Option('--rtmp-max-memory <bytes>', 'message buffers of all RTMP connections together').env('RTMP_MAX_MEMORY').default(128 * MIB).argParser(bytes(1 * MIB, 64 * 1024 * MIB)))
    .addOption(new Option('--unguarded-rtmp', 'no RTMP limits at all: node-media-server as it comes (for measuring it; never in production)').hideHelp())
    .addOption(new Option('--log-level <level>', 'log level').env('LOG_LEVEL').default('info').choices(['debug', 'info', 'warn', 'error']))
    .addOption(new Option('--log-format <format>', 'log format (default: pretty on a terminal, else json)').env('LOG_FORMAT').choices(['pretty', 'json']))
    .addHelpText(
      'after',
      '\nSecrets come from the environment only (a command line is visible to every user of the machine):\n' +
        '  INGEST_SECRET  shared with the edge write API (--storage edge)\n' +
        '  S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY  credentials (--storage s3)\n' +
        '  ADMIN_TOKEN    bearer token of the operations API\n' +
        '  PLAYBACK_SECRET  mints playback tokens of signed streams (the edge has the same secret)\n' +
        'Also: FFMPEG_PATH (ffmpeg binary).',
    );
}

export function parseIngestConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): IngestConfig {
  const command = ingestCommand();
  command.parse(argv, { from: 'user' });
  const options = command.opts<{
    open?: boolean;
    streamsFile: string;
    stateDir: string;
    rtmpHost: string;
    rtmpPort: number;
    rtmpsPort: number;
    tlsCert?: string;
    tlsKey?: string;
    apiHost: string;
    apiPort: number;
    storage: 'edge' | 's3' | 'fs';
    edgeUrl: string;
    insecureEdge?: boolean;
    s3Endpoint?: string;
    s3Bucket?: string;
    s3Region: string;
    s3VirtualHosted?: boolean;
    storageDir: string;
    segmentDuration: number;
    chunkDuration: number;
    lowLatency: 'on' | 'off';
    ladder: string | ReturnType<typeof parseRungs>;
    passthrough: 'auto' | 'never';
    x264Preset: string;
    audioBitrate: number;
    playlistWindow: number;
    retention: 'window' | 'all';
    idleTimeout: number;
    reconnectWindow: number;
    stallTimeout: number;
    rtmpMaxConnections: number;
    rtmpMaxConnectionsPerIp: number;
    rtmpHandshakeTimeout: number;
    rtmpPublishTimeout: number;
    rtmpMaxMessage: number;
    rtmpMaxChunkStreams: number;
    rtmpMaxPublisherMemory: number;
    rtmpMaxMemory: number;
    unguardedRtmp?: boolean;
    logLevel: string;
    logFormat?: 'pretty' | 'json';
  }>();
  if (options.chunkDuration > options.segmentDuration) {
    command.error('error: --chunk-duration must not exceed --segment-duration');
  }
  if (Boolean(options.tlsCert) !== Boolean(options.tlsKey)) {
    command.error('error: RTMPS needs both --tls-cert and --tls-key (or RTMPS_CERT and RTMPS_KEY)');
  }
  if (options.tlsCert && options.rtmpsPort === options.rtmpPort) command.error('error: --rtmps-port must differ from --rtmp-port');
  // A publisher must be able to hold one largest message next to its small ones.
  if (options.rtmpMaxPublisherMemory < options.rtmpMaxMessage + 128 * KIB) {
    command.error('error: --rtmp-max-publisher-memory must be at least --rtmp-max-message + 128 KiB');
  }
  if (options.rtmpMaxMemory < options.rtmpMaxPublisherMemory) command.error('error: --rtmp-max-memory must be at least --rtmp-max-publisher-memory');
  const {
    open, tlsCert, tlsKey, rtmpsPort, storage, edgeUrl, insecureEdge, s3Endpoint, s3Bucket, s3Region, s3VirtualHosted, storageDir, ladder, passthrough, x264Preset, audioBitrate, lowLatency,
    rtmpMaxConnections, rtmpMaxConnectionsPerIp, rtmpHandshakeTimeout, rtmpPublishTimeout, rtmpMaxMessage, rtmpMaxChunkStreams, rtmpMaxPublisherMemory, rtmpMaxMemory, unguardedRtmp,
    ...rest
  } = options;
  return {
    ...rest,
    lowLatency: lowLatency === 'on',
    // Commander passes a default through unparsed.
    ladder: {
      rungs: typeof ladder === 'string' ? parseRungs(ladder) : ladder,
      passthrough,
      preset: x264Preset,
      audio: { ...DEFAULT_LADDER_CONFIG.audio, bitrate: audioBitrate },
    },
    storage: storageConfig(),
    open: open === true || flag(env.INGEST_OPEN),
    rtmps: tlsCert && tlsKey ? { port: rtmpsPort, certFile: tlsCert, keyFile: tlsKey } : undefined,
    rtmpLimits: unguardedRtmp
      ? undefined
      : {
          maxConnections: rtmpMaxConnections,
          maxConnectionsPerSource: rtmpMaxConnectionsPerIp,
          handshakeTimeoutMs: rtmpHandshakeTimeout * 1000,
          publishTimeoutMs: rtmpPublishTimeout * 1000,
          maxMessageSize: rtmpMaxMessage,
          maxChunkStreams: rtmpMaxChunkStreams,
          maxPublisherMemory: rtmpMaxPublisherMemory,
          maxTotalMemory: rtmpMaxMemory,
        },
    logFormat: options.logFormat,
    adminToken: env.ADMIN_TOKEN || undefined,
    playbackSecret: env.PLAYBACK_SECRET || undefined,
  };

  function storageConfig(): StorageConfig {
    switch (storage) {
      case 'edge': {
        const secret = env.INGEST_SECRET;
        const { protocol, hostname } = new URL(edgeUrl);
        const local = isLoopbackHost(hostname);
        // The development secret is public (it is in this repository): only an edge on this
        // machine may be written with it.
        if (!secret && !local) {
          command.error(`error: INGEST_SECRET is not set: the development secret works only with an edge on this machine, not ${edgeUrl}. Set INGEST_SECRET to the edge's secret (wrangler secret put INGEST_SECRET)`);
        }
        if (secret === DEVELOPMENT_INGEST_SECRET && !local) {
          command.error(`error: INGEST_SECRET is the development secret "${DEVELOPMENT_INGEST_SECRET}", which anyone can read: use a random secret for ${edgeUrl} (openssl rand -base64 32), on both sides`);
        }
        if (protocol === 'http:' && !local && !insecureEdge) {
          command.error(`error: --edge-url ${edgeUrl} is plain http on another machine: write credentials would cross the network in clear text. Use https, or pass --insecure-edge on a private network you trust`);
        }
        return { kind: 'edge', edgeUrl, secret: secret || DEVELOPMENT_INGEST_SECRET, usingDevelopmentSecret: !secret || secret === DEVELOPMENT_INGEST_SECRET };
      }
      case 's3': {
        const missing = [
          !s3Endpoint && '--s3-endpoint (S3_ENDPOINT)',
          !s3Bucket && '--s3-bucket (S3_BUCKET)',
          !env.S3_ACCESS_KEY_ID && 'S3_ACCESS_KEY_ID',
          !env.S3_SECRET_ACCESS_KEY && 'S3_SECRET_ACCESS_KEY',
        ].filter(Boolean);
        if (missing.length > 0) command.error(`error: --storage s3 needs ${missing.join(', ')}`);
        return {
          kind: 's3',
          endpoint: s3Endpoint!,
          bucket: s3Bucket!,
          region: s3Region,
          accessKeyId: env.S3_ACCESS_KEY_ID!,
          secretAccessKey: env.S3_SECRET_ACCESS_KEY!,
          pathStyle: !s3VirtualHosted,
        };
      }
      case 'fs':
        return { kind: 'fs', dir: storageDir };
    }
  }
}
