/** `npm run streams -- <command>`: manage the stream store (names, stream keys, playback ids). */
import { resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { MAX_TOKEN_TTL_SECONDS, mintPlaybackToken, PLAYBACK_TOKEN_PARAM } from '../../shared/playback-token.ts';
import { DEFAULT_STREAMS_FILE } from '../config.ts';
import { StreamStore, StreamStoreError, type ConfiguredStream } from './stream-store.ts';

interface GlobalOptions {
  file: string;
  json?: boolean;
}

function publicView(stream: ConfiguredStream) {
  return { name: stream.name, playbackId: stream.playbackId, playback: stream.playback ?? 'public', createdAt: stream.createdAt, keyRotatedAt: stream.keyRotatedAt };
}

function printKey(program: Command, verb: string, stream: ConfiguredStream, key: string): void {
  const { json } = program.opts<GlobalOptions>();
  if (json) {
    console.log(JSON.stringify({ ...publicView(stream), streamKey: key }, null, 2));
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
  if (signed) console.log(`               (TOKEN: PLAYBACK_SECRET=... npm run streams -- token ${stream.name})`);
}

const program = new Command('streams')
  .description('Manage the streams the ingest sidecar accepts.')
  .addOption(new Option('--file <path>', 'the stream store').env('STREAMS_FILE').default(DEFAULT_STREAMS_FILE))
  .option('--json', 'machine-readable output')
  .showHelpAfterError()
  .configureOutput({ outputError: (text, write) => write(text) });

const store = () => new StreamStore(resolve(program.opts<GlobalOptions>().file));

program
  .command('add')
  .description('add a stream; prints its new stream key once')
  .argument('<name>', 'lower-case letters, digits and "-"')
  .option('--signed', 'viewers need a playback token (see the token command)')
  .action((name: string, options: { signed?: boolean }) => {
    const { stream, key } = store().add(name, new Date(), options.signed ? 'signed' : 'public');
    printKey(program, 'added', stream, key);
  });

program
  .command('playback')
  .description('make a stream public or signed (viewers need a token); counts from its next publish')
  .argument('<name>')
  .argument('<mode>', 'public or signed')
  .action((name: string, mode: string) => {
    if (mode !== 'public' && mode !== 'signed') throw new StreamStoreError('mode must be "public" or "signed"');
    const stream = store().setPlayback(name, mode);
    if (program.opts<GlobalOptions>().json) console.log(JSON.stringify(publicView(stream), null, 2));
    else console.log(`Stream "${stream.name}" is now ${mode} (from its next publish).`);
  });

program
  .command('token')
  .description('mint a playback token for a signed stream (needs PLAYBACK_SECRET, the same as the edge\'s)')
  .argument('<stream>', 'name or playback id')
  .addOption(
    new Option('--ttl <seconds>', 'how long the token is valid').default(3600).argParser((value) => {
      const seconds = Number(value);
      if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_TOKEN_TTL_SECONDS) throw new InvalidArgumentError(`expected whole seconds from 1 to ${MAX_TOKEN_TTL_SECONDS}`);
      return seconds;
    }),
  )
  .action(async (nameOrId: string, options: { ttl: number }) => {
    const secret = process.env.PLAYBACK_SECRET;
    if (!secret) throw new StreamStoreError('set PLAYBACK_SECRET (the secret the edge verifies tokens with) to mint tokens');
    // Only a stream of the store: a token for a name that is no stream's looked like a success
    // and opened nothing (open-mode streams are public: they need no token).
    const stream = store().find(nameOrId);
    if (!stream) throw new StreamStoreError(`no stream named "${nameOrId}" or with that playback id (see \`npm run streams -- list\`)`);
    const { playbackId } = stream;
    const expiresAt = Math.floor(Date.now() / 1000) + options.ttl;
    const token = await mintPlaybackToken(secret, playbackId, expiresAt);
    if (program.opts<GlobalOptions>().json) {
      console.log(JSON.stringify({ playbackId, token, expiresAt: new Date(expiresAt * 1000).toISOString() }, null, 2));
      return;
    }
    console.log(`Playback token for "${stream.name}" (${playbackId}), valid until ${new Date(expiresAt * 1000).toISOString()}:`);
    console.log(`  ${token}`);
    console.log(`  Watch: https://EDGE/watch/${playbackId}?${PLAYBACK_TOKEN_PARAM}=${token}`);
    if (stream.playback !== 'signed') console.log('  (this stream is public: it plays without a token too)');
  });

program
  .command('list')
  .description('list the streams (never their keys)')
  .action(() => {
    const streams = store().list();
    if (program.opts<GlobalOptions>().json) {
      console.log(JSON.stringify(streams.map(publicView), null, 2));
      return;
    }
    if (streams.length === 0) {
      console.log('No streams yet: add one with `npm run streams -- add NAME`.');
      return;
    }
    console.table(streams.map((stream) => ({ name: stream.name, 'playback id': stream.playbackId, playback: stream.playback ?? 'public', created: stream.createdAt, 'key rotated': stream.keyRotatedAt })));
  });

program
  .command('rotate-key')
  .description('replace a stream key; the old key stops working for new publishes')
  .argument('<name>')
  .action((name: string) => {
    const { stream, key } = store().rotateKey(name);
    printKey(program, 'has a new key', stream, key);
  });

program
  .command('remove')
  .description('remove a stream (its stored media stays)')
  .argument('<name>')
  .action((name: string) => {
    const stream = store().remove(name);
    if (program.opts<GlobalOptions>().json) console.log(JSON.stringify(publicView(stream), null, 2));
    else console.log(`Stream "${stream.name}" removed; its key no longer publishes.`);
  });

try {
  await program.parseAsync();
} catch (error) {
  if (!(error instanceof StreamStoreError)) throw error;
  console.error(`streams: ${error.message}`);
  process.exit(1);
}
