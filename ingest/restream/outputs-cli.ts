/**
 * `npm run streams -- outputs add|list|remove STREAM ...`: a stream's restream outputs, in the
 * platform's registry (its management API) when one runs, else in the streams file, as the other
 * commands choose. The target's key is shown nowhere after it is added (listed URLs have it
 * redacted); given as an argument or, to keep it out of shell history, on stdin.
 */
import type { Command } from 'commander';
import type { PlatformClient } from '../streams/platform-client.ts';
import { StreamStoreError, type StoredOutput, type StreamStore } from '../streams/stream-store.ts';
import { redactedUrl } from './restream-target.ts';

export interface OutputView {
  id: string;
  /** With the key redacted. */
  url: string;
  createdAt: string;
  /** From the platform (edge registry): how the output is doing, `idle` when no sidecar runs it. */
  state?: string;
  status?: string;
}

/** What is shown of an output: never its key. */
export function outputView(output: StoredOutput): OutputView {
  return { id: output.id, url: redactedUrl(output), createdAt: output.createdAt };
}

export interface OutputsBackend {
  add(stream: string, url: string, key: string): Promise<OutputView>;
  list(stream: string): Promise<OutputView[]>;
  remove(stream: string, id: string): Promise<void>;
}

export function fileOutputs(store: StreamStore): OutputsBackend {
  return {
    add: async (stream, url, key) => outputView(store.addOutput(stream, url, key)),
    list: async (name) => {
      const stream = store.list().find((candidate) => candidate.name === name);
      if (!stream) throw new StreamStoreError(`no stream named "${name}"`);
      return (stream.outputs ?? []).map(outputView);
    },
    remove: async (stream, id) => void store.removeOutput(stream, id),
  };
}

export function platformOutputs(client: PlatformClient): OutputsBackend {
  const path = (stream: string) => `/${encodeURIComponent(stream)}/outputs`;
  return {
    add: async (stream, url, key) => (await client.call<{ output: OutputView }>('POST', path(stream), { url, key })).output,
    list: async (stream) => (await client.call<{ outputs: OutputView[] }>('GET', path(stream))).outputs,
    remove: async (stream, id) => void (await client.call('DELETE', `${path(stream)}/${encodeURIComponent(id)}`)),
  };
}

async function readKeyFromStdin(): Promise<string> {
  if (process.stdin.isTTY) process.stderr.write("the target's stream key: ");
  let text = '';
  for await (const chunk of process.stdin) {
    text += String(chunk);
    if (text.includes('\n')) break;
  }
  return text.split(/\r?\n/)[0]!.trim();
}

export function addOutputCommands(program: Command, backend: () => OutputsBackend, json: () => boolean): void {
  const outputs = program.command('outputs').description('restream outputs of a stream (RTMP/RTMPS targets; from its next publish)');
  outputs
    .command('add')
    .description("add an output: the target's URL (rtmp://HOST/APP or rtmps://…) and its stream key (read from stdin when not given)")
    .argument('<stream>', 'stream name')
    .argument('<url>', 'rtmp:// or rtmps:// URL without the key, e.g. rtmp://a.rtmp.youtube.com/live2')
    .argument('[key]', "the target's stream key")
    .action(async (name: string, url: string, key: string | undefined) => {
      const output = await backend().add(name, url, key ?? (await readKeyFromStdin()));
      if (json()) console.log(JSON.stringify(output, null, 2));
      else console.log(`Output ${output.id} added to "${name}": ${output.url} (from the stream's next publish; the key is not shown again).`);
    });
  outputs
    .command('list')
    .description("list a stream's outputs (keys redacted)")
    .argument('<stream>', 'stream name')
    .action(async (name: string) => {
      const views = await backend().list(name);
      if (json()) console.log(JSON.stringify(views, null, 2));
      else if (views.length === 0) console.log(`Stream "${name}" has no outputs: add one with \`npm run streams -- outputs add ${name} URL\`.`);
      else console.table(views);
    });
  outputs
    .command('remove')
    .description("remove an output (from the stream's next publish)")
    .argument('<stream>', 'stream name')
    .argument('<id>', 'output id (see outputs list)')
    .action(async (name: string, id: string) => {
      await backend().remove(name, id);
      if (json()) console.log(JSON.stringify({ removed: id }, null, 2));
      else console.log(`Output ${id} removed from "${name}".`);
    });
}
