/**
 * Every setting of the sidecar, once: its flag, environment variable, default, parser and help.
 * `npm run ingest -- --help`, parseIngestConfig and the README's configuration table are made from
 * this table (test/ingest/options/readme-table.test.ts fails when the README disagrees).
 */
import { InvalidArgumentError } from 'commander';
import { DEFAULT_LADDER_CONFIG, parseRungs } from '../transcode/ladder.ts';
import type { OptionTable } from './option-table.ts';

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

export const KIB = 1024;
export const MIB = 1024 * 1024;

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

/** An http(s) origin: what the edge's URL may be. */
function url(value: string): string {
  try {
    const parsed = new URL(value);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error();
    return parsed.origin;
  } catch {
    throw new InvalidArgumentError('expected an http(s) URL such as http://127.0.0.1:8080');
  }
}

const X264_PRESETS = ['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow', 'slower', 'veryslow'] as const;

export const SIDECAR_OPTIONS = {
  open: { flag: '--open', env: 'INGEST_OPEN', help: 'open mode: any stream name publishes, no key (local development only)' },
  streamsFile: { flag: '--streams-file', value: '<path>', env: 'STREAMS_FILE', default: DEFAULT_STREAMS_FILE, help: 'the stream store (npm run streams)' },
  streamRegistry: {
    flag: '--stream-registry',
    value: '<where>',
    env: 'STREAM_REGISTRY',
    default: 'file',
    choices: ['file', 'edge'],
    help: 'who decides publishes: the streams file, or the platform registry on the edge (needs --storage edge; npm start uses it)',
  },
  stateDir: { flag: '--state-dir', value: '<path>', env: 'STATE_DIR', default: '.ingest-state', help: "the sidecar's journal of open streams (to take them up after a crash)" },
  rtmpHost: { flag: '--rtmp-host', value: '<host>', env: 'RTMP_HOST', default: '0.0.0.0', help: 'address to accept RTMP(S) on' },
  rtmpPort: { flag: '--rtmp-port', value: '<port>', env: 'RTMP_PORT', default: '1935', parse: integer(1, 65535), help: 'RTMP port' },
  rtmpsPort: { flag: '--rtmps-port', value: '<port>', env: 'RTMPS_PORT', default: '1936', parse: integer(1, 65535), help: 'RTMPS port (needs --tls-cert and --tls-key)' },
  tlsCert: { flag: '--tls-cert', value: '<path>', env: 'RTMPS_CERT', help: 'PEM certificate (chain) for RTMPS; with --tls-key it turns RTMPS on' },
  tlsKey: { flag: '--tls-key', value: '<path>', env: 'RTMPS_KEY', help: 'PEM private key for RTMPS' },
  apiHost: { flag: '--api-host', value: '<host>', env: 'API_HOST', default: '127.0.0.1', help: 'address of the operations API' },
  apiPort: { flag: '--api-port', value: '<port>', env: 'API_PORT', default: '8935', parse: integer(0, 65535), help: 'port of the operations API (0: off)' },
  storage: { flag: '--storage', value: '<kind>', env: 'STORAGE', default: 'edge', choices: ['edge', 's3', 'fs'], help: 'where streams are stored: the edge write API, an S3-compatible bucket, or a folder' },
  edgeUrl: {
    flag: '--edge-url',
    value: '<url>',
    env: 'EDGE_URL',
    default: 'http://127.0.0.1:8080',
    parse: url,
    help: 'with --storage edge: the edge origin whose write API stores the stream (https unless on this machine)',
  },
  insecureEdge: { flag: '--insecure-edge', help: 'allow a plain http:// --edge-url on another machine (write credentials then cross the network in clear text)' },
  s3Endpoint: { flag: '--s3-endpoint', value: '<url>', env: 'S3_ENDPOINT', parse: url, help: 'with --storage s3: the S3 API endpoint (R2: https://ACCOUNT.r2.cloudflarestorage.com)' },
  s3Bucket: { flag: '--s3-bucket', value: '<name>', env: 'S3_BUCKET', help: 'with --storage s3: the bucket' },
  s3Region: { flag: '--s3-region', value: '<region>', env: 'S3_REGION', default: 'auto', help: 'with --storage s3: the region (R2: auto)' },
  s3VirtualHosted: { flag: '--s3-virtual-hosted', help: 'with --storage s3: bucket in the host name (AWS) instead of the path' },
  storageDir: { flag: '--storage-dir', value: '<path>', env: 'STORAGE_DIR', default: 'media', help: 'with --storage fs: the folder' },
  segmentDuration: { flag: '--segment-duration', value: '<seconds>', env: 'SEGMENT_DURATION', default: '2', parse: seconds(1, 10), help: 'target segment duration (segments are cut on keyframes)' },
  chunkDuration: { flag: '--chunk-duration', value: '<seconds>', env: 'CHUNK_DURATION', default: '0.333', parse: seconds(0.1, 2), help: 'longest CMAF chunk inside a segment: the low-latency HLS part target' },
  lowLatency: {
    flag: '--low-latency',
    value: '<mode>',
    env: 'LOW_LATENCY',
    default: 'on',
    choices: ['on', 'off'],
    help: 'on: announce every chunk to the edge as a low-latency HLS part (needs --storage edge); off: segments only',
  },
  thumbnails: {
    flag: '--thumbnails',
    value: '<mode>',
    env: 'THUMBNAILS',
    default: 'on',
    choices: ['on', 'webp', 'off'],
    help: "on: every live H.264 stream's JPEG thumbnail from one keyframe every 10 s (a short-lived ffmpeg; see Thumbnails); webp: WebPs too (about 20 ms more ffmpeg CPU per thumbnail, over the 0.5 % of a core budget); off: none",
  },
  restreamCaFile: { flag: '--restream-ca-file', value: '<path>', env: 'RESTREAM_CA_FILE', help: "PEM CA certificates RTMPS restream targets are verified against (default: the system's)" },
  ladder: {
    flag: '--ladder',
    value: '<rungs>',
    env: 'LADDER',
    default: '1080:5000k,720:2800k,480:1400k,360:800k',
    parse: rungs,
    help: 'encoded renditions below the source, HEIGHT:BITRATE,... (each made only when shorter than the source; "none": the source alone); see The ladder',
  },
  passthrough: {
    flag: '--passthrough',
    value: '<mode>',
    env: 'PASSTHROUGH',
    default: 'auto',
    choices: ['auto', 'never'],
    help: 'auto: pass the source through as the top rendition when its codec and keyframes fit; never: always encode it',
  },
  x264Preset: { flag: '--x264-preset', value: '<preset>', env: 'X264_PRESET', default: DEFAULT_LADDER_CONFIG.preset, choices: X264_PRESETS, help: 'libx264 preset of encoded renditions' },
  audioBitrate: {
    flag: '--audio-bitrate',
    value: '<bits>',
    env: 'AUDIO_BITRATE',
    default: String(DEFAULT_LADDER_CONFIG.audio.bitrate),
    parse: integer(32_000, 512_000),
    help: 'AAC bitrate of the audio rendition, bits/s',
  },
  playlistWindow: { flag: '--playlist-window', value: '<segments>', env: 'PLAYLIST_WINDOW', default: '10', parse: integer(3, 10000), help: 'segments listed in a live playlist (the DVR window players can seek in)' },
  retention: {
    flag: '--retention',
    value: '<mode>',
    env: 'RETENTION',
    default: 'window',
    choices: ['window', 'all'],
    help: 'window: delete media a window after it leaves the live playlist; all: keep everything, and an ended stream lists its whole recording (VOD)',
  },
  recordingDays: {
    flag: '--recording-days',
    value: '<days>',
    env: 'RECORDING_DAYS',
    default: '30',
    parse: integer(0, 36500),
    help: "a stream's recordings (streams that record: see Recordings) are deleted this many days after they end (0: kept until deleted)",
  },
  idleTimeout: { flag: '--idle-timeout', value: '<seconds>', env: 'IDLE_TIMEOUT', default: '10', parse: seconds(2, 300), help: 'disconnect a publisher that sends nothing this long' },
  reconnectWindow: {
    flag: '--reconnect-window',
    value: '<seconds>',
    env: 'RECONNECT_WINDOW',
    default: '30',
    parse: seconds(0, 3600),
    help: 'a publisher reconnecting within this continues its stream (0: streams end at once)',
  },
  stallTimeout: { flag: '--stall-timeout', value: '<seconds>', env: 'STALL_TIMEOUT', default: '10', parse: seconds(2, 300), help: 'restart an ffmpeg that writes nothing this long while fed' },
  rtmpMaxConnections: {
    flag: '--rtmp-max-connections',
    value: '<n>',
    env: 'RTMP_MAX_CONNECTIONS',
    default: '200',
    parse: integer(1, 100_000),
    help: 'open RTMP(S) connections at most, all peers together (at the limit the oldest one not publishing makes room)',
  },
  rtmpMaxConnectionsPerIp: {
    flag: '--rtmp-max-connections-per-ip',
    value: '<n>',
    env: 'RTMP_MAX_CONNECTIONS_PER_IP',
    default: '10',
    parse: integer(1, 100_000),
    help: 'open RTMP(S) connections at most from one IPv4 address or IPv6 /64',
  },
  rtmpHandshakeTimeout: {
    flag: '--rtmp-handshake-timeout',
    value: '<seconds>',
    env: 'RTMP_HANDSHAKE_TIMEOUT',
    default: '5',
    parse: seconds(0.5, 60),
    help: 'a connection must finish the RTMP handshake (and TLS) this soon',
  },
  rtmpPublishTimeout: {
    flag: '--rtmp-publish-timeout',
    value: '<seconds>',
    env: 'RTMP_PUBLISH_TIMEOUT',
    default: '15',
    parse: seconds(1, 300),
    help: 'a connection must have its publish accepted this soon, or it is dropped',
  },
  rtmpMaxMessage: {
    flag: '--rtmp-max-message',
    value: '<bytes>',
    env: 'RTMP_MAX_MESSAGE',
    default: '8MiB',
    parse: bytes(64 * KIB, 16 * MIB - 1),
    help: 'largest audio/video/data message a publisher may announce (a keyframe); bytes, or with KiB/MiB',
  },
  rtmpMaxChunkStreams: { flag: '--rtmp-max-chunk-streams', value: '<n>', env: 'RTMP_MAX_CHUNK_STREAMS', default: '16', parse: integer(4, 320), help: 'RTMP chunk stream ids one connection may use' },
  rtmpMaxPublisherMemory: {
    flag: '--rtmp-max-publisher-memory',
    value: '<bytes>',
    env: 'RTMP_MAX_PUBLISHER_MEMORY',
    default: '20MiB',
    parse: bytes(128 * KIB, 1024 * MIB),
    help: 'message buffers of one publisher, all chunk streams together',
  },
  rtmpMaxMemory: {
    flag: '--rtmp-max-memory',
    value: '<bytes>',
    env: 'RTMP_MAX_MEMORY',
    default: '128MiB',
    parse: bytes(1 * MIB, 64 * 1024 * MIB),
    help: 'message buffers of all RTMP connections together',
  },
  unguardedRtmp: { flag: '--unguarded-rtmp', hidden: true, help: 'no RTMP limits at all: node-media-server as it comes (for measuring it; never in production)' },
  logLevel: { flag: '--log-level', value: '<level>', env: 'LOG_LEVEL', default: 'info', choices: ['debug', 'info', 'warn', 'error'], help: "log level (debug also logs ffmpeg's warnings)" },
  logFormat: { flag: '--log-format', value: '<format>', env: 'LOG_FORMAT', choices: ['pretty', 'json'], defaultText: 'pretty on a terminal, else json', help: 'log format' },
  ingestSecret: { env: 'INGEST_SECRET', defaultText: 'the development secret (an edge on this machine only)', help: 'shared with the edge write API (--storage edge)' },
  s3AccessKeyId: { env: 'S3_ACCESS_KEY_ID', help: 'with --storage s3: the access key id' },
  s3SecretAccessKey: { env: 'S3_SECRET_ACCESS_KEY', help: 'with --storage s3: the secret access key' },
  adminToken: { env: 'ADMIN_TOKEN', help: 'bearer token of the operations API' },
  playbackSecret: { env: 'PLAYBACK_SECRET', help: 'mints playback tokens of signed streams (the edge has the same secret)' },
  ffmpegPath: { env: 'FFMPEG_PATH', documentedOnly: true, defaultText: 'ffmpeg-static, else ffmpeg on PATH', help: 'the ffmpeg binary' },
  allocator: {
    env: 'INGEST_ALLOCATOR',
    documentedOnly: true,
    defaultText: 'jemalloc where installed, else system',
    help: "the sidecar's malloc: jemalloc or system (README: Memory)",
  },
} as const satisfies OptionTable;
