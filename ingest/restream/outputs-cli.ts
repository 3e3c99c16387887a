/**
 * `npm run streams -- outputs add|list|remove STREAM ...`: a stream's restream outputs in the
 * streams file. The target's key is shown nowhere after it is added (listed URLs have it
 * redacted); given as an argument or, to keep it out of shell history, on stdin.
 */
import type { Command } from 'commander';
import { StreamStoreError, type StoredOutput, type StreamStore } from '../streams/stream-store.ts';
import { redactedUrl } from './restream-target.ts';

/** What is shown of an output: never its key. */
export function outputView(output: StoredOutput): { id: string; url: string; createdAt: string } {
  return { id: output.id, url: redactedUrl(output), createdAt: output.createdAt };
}

async function readKeyFromStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write("the target's stream key (not echoed back): ");
  let text = '';
  for await (const chunk of process.stdin) {
    text += String(chunk);
    if (text.includes('\n')) break;
  }
  return text.split(/\r?\n/)[0]!.trim();
}

export function addOutputCommands(program: Command, store: () => StreamStore, json: () => boolean): void {
  const outputs = program.command('outputs').description('restream outputs of a stream (RTMP/RTMPS targets; from its next publish)');
  outputs
    .command('add')
    .description("add an output: the target's URL (rtmp://HOST/APP or rtmps://…) and its stream key (read from stdin when not given)")
    .argument('<stream>', 'stream name')
    .argument('<url>', 'rtmp:// or rtmps:// URL without the key, e.g. rtmp://a.rtmp.youtube.com/live2')
    .argument('[key]', "the target's stream key")
    .action(async (name: string, url: string, key: string | undefined) => {
      const output = store().addOutput(name, url, key ?? (await readKeyFromStdin()));
      if (json()) console.log(JSON.stringify(outputView(output), null, 2));
      else console.log(`Output ${output.id} added to "${name}": ${redactedUrl(output)} (from the stream's next publish; the key is not shown again).`);
    });
  outputs
    .command('list')
    .description('list a stream\'s outputs (keys redacted)')
    .argument('<stream>', 'stream name')
    .action((name: string) => {
      const stream = store().list().find((candidate) => candidate.name === name);
      if (!stream) throw new StreamStoreError(`no stream named "${name}"`);
      const views = (stream.outputs ?? []).map(outputView);
      if (json()) console.log(JSON.stringify(views, null, 2));
      else if (views.length === 0) console.log(`Stream "${name}" has no outputs: add one with \`npm run streams -- outputs add ${name} URL\`.`);
      else console.table(views);
    });
  outputs
    .command('remove')
    .description('remove an output (from the stream\'s next publish)')
    .argument('<stream>', 'stream name')
    .argument('<id>', 'output id (see outputs list)')
    .action((name: string, id: string) => {
      const output = store().removeOutput(name, id);
      if (json()) console.log(JSON.stringify(outputView(output), null, 2));
      else console.log(`Output ${output.id} (${redactedUrl(output)}) removed from "${name}".`);
    });
}
