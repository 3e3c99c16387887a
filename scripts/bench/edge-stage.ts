/**
 * Stage "edge": the figures of `npm run bench:edge` (CPU per manifest rewrite by playlist size,
 * cached playlist requests per second through wrangler dev, storage reads under a crowd), run
 * as its own process with this bench's number of runs, and read from its JSON.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../lib/local-platform.ts';
import { ManagedProcess } from '../lib/managed-process.ts';
import type { BenchContext } from './bench-context.ts';

export async function runEdgeStage(context: BenchContext): Promise<unknown> {
  const out = join(context.work, 'edge.json');
  const child = new ManagedProcess({
    name: 'bench:edge',
    command: process.execPath,
    args: [join(PROJECT_ROOT, 'scripts', 'bench-edge.ts'), '--runs', String(context.runs), '--out', out],
    cwd: PROJECT_ROOT,
    onLine: (line) => {
      if (line.startsWith('[bench:edge]')) context.status(`edge: ${line.slice('[bench:edge] '.length)}`);
    },
  });
  const tracked = context.track({ stop: () => child.stop() });
  const onAbort = () => void child.stop();
  context.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const { code } = await child.exited;
    if (code !== 0) throw new Error(`bench:edge exited with ${code}`);
    return JSON.parse(readFileSync(out, 'utf8')) as unknown;
  } finally {
    context.signal.removeEventListener('abort', onAbort);
    context.untrack(tracked);
  }
}
