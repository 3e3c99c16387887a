/** `npm run streams -- <command>`: manage the stream store (names, stream keys, playback ids). */
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { DEFAULT_STREAMS_FILE } from '../config.ts';
import { StreamStore, StreamStoreError, type ConfiguredStream } from './stream-store.ts';

interface GlobalOptions {
  file: string;
  json?: boolean;
}

function publicView(stream: ConfiguredStream) {
  return { name: stream.name, playbackId: stream.playbackId, createdAt: stream.createdAt, keyRotatedAt: stream.keyRotatedAt };
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
  console.log(`  Playback id: ${stream.playbackId}   (public)`);
  console.log('  Publish:     server rtmp://HOST:1935/live with the stream key above (OBS: Custom service)');
  console.log(`  Watch:       https://EDGE/watch/${stream.playbackId}   playlist https://EDGE/live/${stream.playbackId}/index.m3u8`);
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
  .action((name: string) => {
    const { stream, key } = store().add(name);
    printKey(program, 'added', stream, key);
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
    console.table(streams.map((stream) => ({ name: stream.name, 'playback id': stream.playbackId, created: stream.createdAt, 'key rotated': stream.keyRotatedAt })));
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
