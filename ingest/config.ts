/** The sidecar's configuration: command-line flags first, then environment variables, then defaults. */
import { Command, InvalidArgumentError, Option } from 'commander';

export interface IngestConfig {
  rtmpHost: string;
  rtmpPort: number;
  edgeUrl: string;
  ingestSecret: string;
  /** True when no secret was configured and the development default is in use. */
  usingDevelopmentSecret: boolean;
  segmentDuration: number;
  chunkDuration: number;
  playlistWindow: number;
  logLevel: string;
  logFormat: 'pretty' | 'json' | undefined;
}

/** Shared with `npm start` and the edge's `.dev.vars`; never accepted outside local development. */
export const DEVELOPMENT_INGEST_SECRET = 'dev-only-ingest-secret';

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

function url(value: string): string {
  try {
    const parsed = new URL(value);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error();
    return parsed.origin;
  } catch {
    throw new InvalidArgumentError('expected an http(s) URL such as http://127.0.0.1:8080');
  }
}

export function ingestCommand(): Command {
  return new Command('ingest')
    .description('The ingest sidecar: accepts RTMP publishers, packages CMAF + HLS, uploads to storage.')
    .addOption(new Option('--rtmp-host <host>', 'address to accept RTMP on').env('RTMP_HOST').default('0.0.0.0'))
    .addOption(new Option('--rtmp-port <port>', 'RTMP port').env('RTMP_PORT').default(1935).argParser(integer(1, 65535)))
    .addOption(new Option('--edge-url <url>', 'edge origin whose write API stores the stream').env('EDGE_URL').default('http://127.0.0.1:8080').argParser(url))
    .addOption(new Option('--segment-duration <seconds>', 'target segment duration').env('SEGMENT_DURATION').default(2).argParser(seconds(1, 10)))
    .addOption(new Option('--chunk-duration <seconds>', 'CMAF chunk duration inside a segment').env('CHUNK_DURATION').default(0.333).argParser(seconds(0.1, 2)))
    .addOption(new Option('--playlist-window <segments>', 'segments listed in a live playlist').env('PLAYLIST_WINDOW').default(10).argParser(integer(3, 10000)))
    .addOption(new Option('--log-level <level>', 'log level').env('LOG_LEVEL').default('info').choices(['debug', 'info', 'warn', 'error']))
    .addOption(new Option('--log-format <format>', 'log format (default: pretty on a terminal, else json)').env('LOG_FORMAT').choices(['pretty', 'json']))
    .addHelpText('after', '\nEnvironment: INGEST_SECRET (shared with the edge write API), FFMPEG_PATH (ffmpeg binary).');
}

export function parseIngestConfig(argv: string[], env: NodeJS.ProcessEnv = process.env): IngestConfig {
  const command = ingestCommand();
  command.parse(argv, { from: 'user' });
  const options = command.opts<{
    rtmpHost: string;
    rtmpPort: number;
    edgeUrl: string;
    segmentDuration: number;
    chunkDuration: number;
    playlistWindow: number;
    logLevel: string;
    logFormat?: 'pretty' | 'json';
  }>();
  if (options.chunkDuration > options.segmentDuration) {
    command.error('error: --chunk-duration must not exceed --segment-duration');
  }
  const secret = env.INGEST_SECRET;
  return {
    ...options,
    logFormat: options.logFormat,
    ingestSecret: secret || DEVELOPMENT_INGEST_SECRET,
    usingDevelopmentSecret: !secret,
  };
}
