/** The Node edge's command line (`npm run edge:node -- --help`): flags, each with its environment variable. */
import { Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_CACHE_MB, parseCacheMegabytes } from './memory-cache-setting.ts';

export interface NodeEdgeOptions {
  host: string;
  port: number;
  storageDir: string;
  registryDb?: string;
  /** Megabytes of stored objects kept in memory (0: none). */
  cacheMb: number;
}

function port(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 65535) throw new InvalidArgumentError('expected a port from 1 to 65535');
  return parsed;
}

function megabytes(value: string): number {
  const parsed = parseCacheMegabytes(value);
  if (!parsed.ok) throw new InvalidArgumentError(parsed.reason);
  return parsed.megabytes;
}

/** The options from `argv` and the environment; exits with commander's message on a bad one (and after --help). */
export function parseNodeEdgeOptions(argv: readonly string[]): NodeEdgeOptions {
  const program = new Command('edge:node')
    .description('Serve streams from a folder (the sidecar stores into it through the write API, or directly with --storage fs).')
    .addOption(new Option('--host <address>', 'address to listen on').env('EDGE_HOST').default('127.0.0.1'))
    .addOption(new Option('--port <port>', 'port to listen on').env('EDGE_PORT').default(8080).argParser(port))
    .addOption(new Option('--storage-dir <path>', 'the folder streams are stored in').env('STORAGE_DIR').default('media'))
    .addOption(new Option('--cache-mb <megabytes>', "memory for copies of stored objects viewers read (playlists for a second, segments until pushed out by newer ones); 0: every viewer's request reads the folder").env('EDGE_CACHE_MB').default(DEFAULT_CACHE_MB).argParser(megabytes))
    .addOption(new Option('--registry-db <path>', 'SQLite file of the stream registry (default: STORAGE_DIR/.platform/registry.sqlite)').env('REGISTRY_DB'))
    .addHelpText('after', '\nSecrets and settings from the environment: INGEST_SECRET (write API), ADMIN_TOKEN (management API, /api/v1/streams), PLAYBACK_SECRET (signed playback), SEGMENT_BASE_URL (CDN for segments).')
    .parse(argv);
  return program.opts<NodeEdgeOptions>();
}
