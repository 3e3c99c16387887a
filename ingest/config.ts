/**
 * The sidecar's configuration, typed: command-line flags first, then environment variables, then
 * defaults, all declared once in options/sidecar-options.ts.
 */
import type { Command } from 'commander';
import { isLoopbackHost } from '../shared/loopback.ts';
import { DEVELOPMENT_INGEST_SECRET } from '../shared/write-api.ts';
import { commandFor, resolveOptions, type OptionValues } from './options/option-table.ts';
import { DEFAULT_STREAMS_FILE, KIB, SIDECAR_OPTIONS } from './options/sidecar-options.ts';
import type { RtmpLimits } from './rtmp/connection-gate.ts';
import { DEFAULT_LADDER_CONFIG, type LadderConfig } from './transcode/ladder.ts';

export type StorageConfig =
  | { kind: 'edge'; edgeUrl: string; secret: string; usingDevelopmentSecret: boolean }
  | { kind: 's3'; endpoint: string; bucket: string; region: string; accessKeyId: string; secretAccessKey: string; pathStyle: boolean }
  | { kind: 'fs'; dir: string };

/** The table's plain values, as they are. */
type SidecarOptionValues = OptionValues<typeof SIDECAR_OPTIONS>;
type PlainSettings = Pick<
  SidecarOptionValues,
  | 'rtmpHost' | 'rtmpPort' | 'apiHost' | 'apiPort' | 'adminToken' | 'playbackSecret' | 'open' | 'streamsFile' | 'streamRegistry' | 'stateDir' | 'segmentDuration' | 'chunkDuration'
  | 'playlistWindow' | 'retention' | 'recordingDays' | 'idleTimeout' | 'reconnectWindow' | 'stallTimeout' | 'logLevel' | 'logFormat' | 'restreamCaFile'
>;

/** The plain settings, and those several options make together. */
export interface IngestConfig extends PlainSettings {
  storage: StorageConfig;
  rtmps: { port: number; certFile: string; keyFile: string } | undefined;
  /** undefined: node-media-server unguarded (`--unguarded-rtmp`, for measuring only). */
  rtmpLimits: RtmpLimits | undefined;
  /** Announce chunks as low-latency HLS parts (with the edge write API only). */
  lowLatency: boolean;
  /** Make thumbnails of live streams (--thumbnails on or webp). */
  thumbnails: boolean;
  /** Also WebPs of each thumbnail (--thumbnails webp), when ffmpeg has libwebp. */
  thumbnailWebp: boolean;
  ladder: LadderConfig;
}

/** Shared with `npm start` and `.dev.vars.example`; only a local development edge accepts it (defined in shared/write-api.ts). */
export { DEVELOPMENT_INGEST_SECRET, DEFAULT_STREAMS_FILE };

export function ingestCommand(): Command {
  return commandFor('ingest', 'The ingest sidecar: accepts RTMP(S) publishers, packages CMAF + HLS, uploads to storage.', SIDECAR_OPTIONS);
}

export function parseIngestConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): IngestConfig {
  const command = ingestCommand();
  const options = resolveOptions(command, SIDECAR_OPTIONS, argv, env);
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
  if (options.streamRegistry === 'edge' && options.storage !== 'edge') command.error('error: --stream-registry edge needs --storage edge (the edge URL and INGEST_SECRET it asks with)');
  if (options.rtmpMaxMemory < options.rtmpMaxPublisherMemory) command.error('error: --rtmp-max-memory must be at least --rtmp-max-publisher-memory');
  const { tlsCert, tlsKey, storage, edgeUrl, s3Endpoint, s3Bucket, ingestSecret, s3AccessKeyId, s3SecretAccessKey } = options;
  return {
    rtmpHost: options.rtmpHost,
    rtmpPort: options.rtmpPort,
    apiHost: options.apiHost,
    apiPort: options.apiPort,
    adminToken: options.adminToken,
    playbackSecret: options.playbackSecret,
    open: options.open,
    streamsFile: options.streamsFile,
    streamRegistry: options.streamRegistry,
    stateDir: options.stateDir,
    segmentDuration: options.segmentDuration,
    chunkDuration: options.chunkDuration,
    playlistWindow: options.playlistWindow,
    retention: options.retention,
    recordingDays: options.recordingDays,
    idleTimeout: options.idleTimeout,
    reconnectWindow: options.reconnectWindow,
    stallTimeout: options.stallTimeout,
    logLevel: options.logLevel,
    logFormat: options.logFormat,
    lowLatency: options.lowLatency === 'on',
    thumbnails: options.thumbnails !== 'off',
    thumbnailWebp: options.thumbnails === 'webp',
    restreamCaFile: options.restreamCaFile,
    ladder: {
      rungs: options.ladder,
      passthrough: options.passthrough,
      preset: options.x264Preset,
      audio: { ...DEFAULT_LADDER_CONFIG.audio, bitrate: options.audioBitrate },
    },
    storage: storageConfig(),
    rtmps: tlsCert && tlsKey ? { port: options.rtmpsPort, certFile: tlsCert, keyFile: tlsKey } : undefined,
    rtmpLimits: options.unguardedRtmp
      ? undefined
      : {
          maxConnections: options.rtmpMaxConnections,
          maxConnectionsPerSource: options.rtmpMaxConnectionsPerIp,
          handshakeTimeoutMs: options.rtmpHandshakeTimeout * 1000,
          publishTimeoutMs: options.rtmpPublishTimeout * 1000,
          maxMessageSize: options.rtmpMaxMessage,
          maxChunkStreams: options.rtmpMaxChunkStreams,
          maxPublisherMemory: options.rtmpMaxPublisherMemory,
          maxTotalMemory: options.rtmpMaxMemory,
        },
  };

  function storageConfig(): StorageConfig {
    switch (storage) {
      case 'edge': {
        const secret = ingestSecret;
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
        if (protocol === 'http:' && !local && !options.insecureEdge) {
          command.error(`error: --edge-url ${edgeUrl} is plain http on another machine: write credentials would cross the network in clear text. Use https, or pass --insecure-edge on a private network you trust`);
        }
        return { kind: 'edge', edgeUrl, secret: secret || DEVELOPMENT_INGEST_SECRET, usingDevelopmentSecret: !secret || secret === DEVELOPMENT_INGEST_SECRET };
      }
      case 's3': {
        const missing = [
          !s3Endpoint && '--s3-endpoint (S3_ENDPOINT)',
          !s3Bucket && '--s3-bucket (S3_BUCKET)',
          !s3AccessKeyId && 'S3_ACCESS_KEY_ID',
          !s3SecretAccessKey && 'S3_SECRET_ACCESS_KEY',
        ].filter(Boolean);
        if (missing.length > 0) command.error(`error: --storage s3 needs ${missing.join(', ')}`);
        return {
          kind: 's3',
          endpoint: s3Endpoint!,
          bucket: s3Bucket!,
          region: options.s3Region,
          accessKeyId: s3AccessKeyId!,
          secretAccessKey: s3SecretAccessKey!,
          pathStyle: !options.s3VirtualHosted,
        };
      }
      case 'fs':
        return { kind: 'fs', dir: options.storageDir };
    }
  }
}
