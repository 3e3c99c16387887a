/**
 * `npm run streams -- <command>`: manage the platform's streams (names, stream keys, playback ids).
 * While a platform runs (`npm start` leaves its edge URL and admin token in the state folder), or
 * given --edge-url and an admin token, the commands go to the edge's management API; with --file,
 * or when no platform runs, to a local streams.json, which `npm start` imports (once).
 */
import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { MAX_TOKEN_TTL_SECONDS, PLAYBACK_TOKEN_PARAM } from '../../shared/playback-token.ts';
import { DEFAULT_STREAMS_FILE } from '../config.ts';
import { FileBackend, PlatformBackend, type StreamsBackend, type StreamView } from './cli-backends.ts';
import { readPlatformFile } from './platform-file.ts';
import { PlatformClient } from './platform-client.ts';
import { StreamStore, StreamStoreError } from './stream-store.ts';
import { addOutputCommands, fileOutputs, platformOutputs } from '../restream/outputs-cli.ts';
import { addRecordingCommands } from '../recordings/recordings-cli.ts';

interface GlobalOptions {
  file: string;
  edgeUrl?: string;
  adminToken?: string;
  stateDir: string;
  json?: boolean;
}

function printKey(program: Command, verb: string, stream: StreamView, key: string): void {
  const { json } = program.opts<GlobalOptions>();
  if (json) {
    console.log(JSON.stringify({ ...stream, streamKey: key }, null, 2));
    return;
  }
  console.log(`Stream "${stream.name}" ${verb}.`);
  console.log(`  Stream key:  ${key}`);
  console.log('               (shown this once: only its hash is stored. Keep it secret; rotate it if it leaks.)');
  const signed = stream.playback === 'signed';
  console.log(`  Playback id: ${stream.playbackId}   (${signed ? 'signed: viewers also need a playback token' : 'public: anyone with it can watch'})`);
  console.log('  Publish:     server rtmp://HOST:1935/live with the stream key above (OBS: Custom service)');
  // A signed stream's URLs without a token answer 401: show where the token goes, and how to get one.
  const query = signed ? `?${PLAYBACK_TOKEN_PARAM}=TOKEN` : '';
  console.log(`  Watch:       https://EDGE/watch/${stream.playbackId}${query}   playlist https://EDGE/live/${stream.playbackId}/index.m3u8${query}`);
  if (signed) console.log(`               (TOKEN: npm run streams -- token ${stream.name})`);
}

function printStream(program: Command, stream: StreamView, sentence: string): void {
  if (program.opts<GlobalOptions>().json) console.log(JSON.stringify(stream, null, 2));
  else console.log(sentence);
}

const program = new Command('streams')
  .description('Manage the streams the platform accepts.')
  .addOption(new Option('--file <path>', 'a local stream store instead of the platform (imported by npm start)').env('STREAMS_FILE').default(DEFAULT_STREAMS_FILE))
  .addOption(new Option('--edge-url <url>', "the edge whose management API holds the streams (default: the running platform's)").env('EDGE_URL'))
  .addOption(new Option('--admin-token <token>', "the edge's ADMIN_TOKEN (default: the running platform's)").env('ADMIN_TOKEN'))
  .addOption(new Option('--state-dir <path>', 'where a running `npm start` says where its edge is').env('STATE_DIR').default('.ingest-state'))
  .option('--json', 'machine-readable output')
  .showHelpAfterError()
  .configureOutput({ outputError: (text, write) => write(text) });

/** The platform when one runs or is named, else the streams file (see the module comment). */
function platformClient(): PlatformClient | undefined {
  const options = program.opts<GlobalOptions>();
  const running = readPlatformFile(resolve(options.stateDir));
  // An empty variable counts as unset.
  const edgeUrl = options.edgeUrl || running?.edgeUrl;
  if (!edgeUrl) return undefined;
  const adminToken = options.adminToken || running?.adminToken;
  if (!adminToken) throw new StreamStoreError(`set ADMIN_TOKEN (or --admin-token): the management API of ${edgeUrl} needs the edge's admin token`);
  return new PlatformClient({ edgeUrl, adminToken });
}

function backend(): StreamsBackend {
  const options = program.opts<GlobalOptions>();
  const store = new StreamStore(resolve(options.file || DEFAULT_STREAMS_FILE));
  if (program.getOptionValueSource('file') === 'cli') return new FileBackend(store);
  const client = platformClient();
  if (client) return new PlatformBackend(client);
  const chosen = new FileBackend(store);
  if (!options.json) console.error(`(no platform running: using ${chosen.where}; \`npm start\` imports it into the platform's registry)`);
  return chosen;
}

program
  .command('add')
  .description('add a stream; prints its new stream key once')
  .argument('<name>', 'lower-case letters, digits and "-"')
  .option('--signed', 'viewers need a playback token (see the token command)')
  .action(async (name: string, options: { signed?: boolean }) => {
    const { stream, key } = await backend().add(name, options.signed ? 'signed' : 'public');
    printKey(program, 'added', stream, key);
  });

program
  .command('playback')
  .description('make a stream public or signed (viewers need a token); counts from its next publish')
  .argument('<name>')
  .argument('<mode>', 'public or signed')
  .action(async (name: string, mode: string) => {
    if (mode !== 'public' && mode !== 'signed') throw new StreamStoreError('mode must be "public" or "signed"');
    const stream = await backend().setPlayback(name, mode);
    printStream(program, stream, `Stream "${stream.name}" is now ${mode} (from its next publish).`);
  });

program
  .command('token')
  .description('mint a playback token for a signed stream (the platform mints it; with a streams file, PLAYBACK_SECRET must be set)')
  .argument('<stream>', 'name or playback id')
  .addOption(
    new Option('--ttl <seconds>', 'how long the token is valid').default(3600).argParser((value) => {
      const seconds = Number(value);
      if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_TOKEN_TTL_SECONDS) throw new InvalidArgumentError(`expected whole seconds from 1 to ${MAX_TOKEN_TTL_SECONDS}`);
      return seconds;
    }),
  )
  .action(async (nameOrId: string, options: { ttl: number }) => {
    const { stream, token, expiresAt } = await backend().token(nameOrId, options.ttl);
    if (program.opts<GlobalOptions>().json) {
      console.log(JSON.stringify({ playbackId: stream.playbackId, token, expiresAt }, null, 2));
      return;
    }
    console.log(`Playback token for "${stream.name}" (${stream.playbackId}), valid until ${expiresAt}:`);
    console.log(`  ${token}`);
    console.log(`  Watch: https://EDGE/watch/${stream.playbackId}?${PLAYBACK_TOKEN_PARAM}=${token}`);
    if (stream.playback !== 'signed') console.log('  (this stream is public: it plays without a token too)');
  });

program
  .command('list')
  .description('list the streams (never their keys)')
  .action(async () => {
    const streams = await backend().list();
    if (program.opts<GlobalOptions>().json) {
      console.log(JSON.stringify(streams, null, 2));
      return;
    }
    if (streams.length === 0) {
      console.log('No streams yet: add one with `npm run streams -- add NAME`.');
      return;
    }
    console.table(
      streams.map((stream) => ({
        name: stream.name,
        'playback id': stream.playbackId,
        playback: stream.playback,
        ...(stream.enabled === undefined ? {} : { enabled: stream.enabled }),
        created: stream.createdAt,
        'key rotated': stream.keyRotatedAt,
      })),
    );
  });

program
  .command('rotate-key')
  .description('replace a stream key; the old key stops working, and its live publisher is dropped')
  .argument('<name>')
  .action(async (name: string) => {
    const { stream, key } = await backend().rotateKey(name);
    printKey(program, 'has a new key', stream, key);
  });

for (const [command, enabled] of [['enable', true], ['disable', false]] as const) {
  program
    .command(command)
    .description(enabled ? 'let a disabled stream publish again' : 'refuse a stream\'s key (its live publisher is dropped) until enabled again')
    .argument('<name>')
    .action(async (name: string) => {
      const stream = await backend().setEnabled(name, enabled);
      printStream(program, stream, `Stream "${stream.name}" ${enabled ? 'enabled' : 'disabled: its key publishes nothing until `npm run streams -- enable ' + stream.name + '`'}.`);
    });
}

program
  .command('remove')
  .description('remove a stream (its stored media stays)')
  .argument('<name>')
  .action(async (name: string) => {
    const stream = await backend().remove(name);
    printStream(program, stream, `Stream "${stream.name}" removed; its key no longer publishes.`);
  });

program
  .command('import')
  .description("import a streams.json into the platform's registry (keys and playback ids kept; names already there are skipped, so running it again changes nothing)")
  .option('--from <path>', 'the streams file to import (default: --file / STREAMS_FILE)')
  .action(async (options: { from?: string }) => {
    const client = platformClient();
    if (!client) throw new StreamStoreError('no platform to import into: start it (npm start), or give --edge-url and ADMIN_TOKEN');
    const store = new StreamStore(resolve(options.from || program.opts<GlobalOptions>().file || DEFAULT_STREAMS_FILE));
    const result = await client.importStreams(store.list());
    if (program.opts<GlobalOptions>().json) console.log(JSON.stringify(result, null, 2));
    else console.log(`Imported ${result.imported.length} stream(s) from ${store.path}${result.skipped.length ? `; ${result.skipped.length} already in the registry (kept as they are): ${result.skipped.join(', ')}` : ''}.`);
  });

// Outputs go where the streams are: the platform's registry when one runs, else the streams file.
addOutputCommands(
  program,
  () => {
    const store = new StreamStore(resolve(program.opts<GlobalOptions>().file || DEFAULT_STREAMS_FILE));
    if (program.getOptionValueSource('file') === 'cli') return fileOutputs(store);
    const client = platformClient();
    return client ? platformOutputs(client) : fileOutputs(store);
  },
  () => program.opts<GlobalOptions>().json === true,
);

// Recordings are in the platform's storage: only its management API lists them.
addRecordingCommands(program, platformClient, () => program.opts<GlobalOptions>().json === true);

try {
  await program.parseAsync();
} catch (error) {
  if (!(error instanceof StreamStoreError)) throw error;
  console.error(`streams: ${error.message}`);
  process.exit(1);
}
