/** `npm test`: makes sure the system tools the tests use are here, type-checks, runs vitest. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from './lib/local-platform.ts';
import { ensureSystemTools } from './lib/system-tools.ts';

const USAGE = `Usage: npm test [-- <vitest arguments>]

Installs the system tools the tests use when they are missing (ffmpeg, chromium, VLC, openssl:
with apt-get as root, otherwise it says what to install), type-checks the whole project, then runs the vitest projects one after another:
unit, workers (the edge in workerd), e2e (serial group, then the paired group).

With arguments, type-checks and then runs \`vitest run <arguments>\` instead, e.g.
  npm test -- --project unit test/edge/manifest
  npm test -- --project e2e test/e2e/ladder.test.ts

  npm run test:players   the whole player matrix, every row beside its reference (PLAYER_MATRIX=1)
`;
if (process.argv.slice(2).some((argument) => argument === '--help' || argument === '-h')) {
  console.log(USAGE);
  process.exit(0);
}

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
  // More files at a time than vitest's default on 2 cores (one, cores - 1): most of these files
  // wait on timers, sockets and workerd rather than compute (unit 183 s -> 98 s with two, 72 s
  // with three; workers 97 s -> 48 s with two, on the CI machine).
  run('vitest', ['run', '--project', 'unit', '--maxWorkers', '3']);
  run('vitest', ['run', '--project', 'workers', '--maxWorkers', '2']);
  // The e2e files one at a time, then those that mostly wait two at a time (vitest.config.ts).
  run('vitest', ['run', '--project', 'e2e'], { E2E_GROUP: 'serial' });
  run('vitest', ['run', '--project', 'e2e'], { E2E_GROUP: 'paired' });
}
