/** `npm test`: makes sure the system tools the tests use are here, type-checks, runs vitest. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from './lib/local-platform.ts';
import { ensureSystemTools } from './lib/system-tools.ts';

const problem = ensureSystemTools();
if (problem) {
  console.error(`[test] ${problem}`);
  process.exit(1);
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = {}): void {
  const result = spawnSync(join(PROJECT_ROOT, 'node_modules', '.bin', command), args, { stdio: 'inherit', cwd: PROJECT_ROOT, env: { ...process.env, ...env } });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

console.log('[test] type-checking…');
run('tsc', ['-p', 'tsconfig.json']);
run('tsc', ['-p', 'edge/tsconfig.json']);
// The player page's browser code, typed with the DOM.
run('tsc', ['-p', 'edge/player/client/tsconfig.json']);
// The Deno adapter, type-checked by Deno itself (it uses Deno's globals).
run('deno', ['check', 'edge/deno-server.ts']);
const extra = process.argv.slice(2);
if (extra.length > 0) {
  run('vitest', ['run', ...extra]);
} else {
  // One after the other: the end-to-end tests run real encoders, browsers and players on a
  // small machine, and should not share it with the unit tests' own ffmpeg runs.
  run('vitest', ['run', '--project', 'unit']);
  run('vitest', ['run', '--project', 'workers']);
  // The e2e files one at a time, then those that mostly wait two at a time (vitest.config.ts).
  run('vitest', ['run', '--project', 'e2e'], { E2E_GROUP: 'serial' });
  run('vitest', ['run', '--project', 'e2e'], { E2E_GROUP: 'paired' });
}
