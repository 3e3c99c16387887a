/**
 * `npm run wrangler -- ARGS` (and `npm run edge`, `npm run deploy`): the project's wrangler under
 * the Node that scripts/node24.mjs runs this with. wrangler refuses Node older than 22.12, and a
 * bare `wrangler` is not on PATH (it lives in node_modules/.bin): on a machine whose `node` is
 * Node 20, every `wrangler ...` of the README goes through here.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { applyLocalMigrations } from './lib/d1-migrations.ts';
import { PROJECT_ROOT, wranglerDevEnv } from './lib/local-platform.ts';

const WRANGLER = join(PROJECT_ROOT, 'node_modules', 'wrangler', 'bin', 'wrangler.js');

const args = process.argv.slice(2);
const localDev = args[0] === 'dev' && !args.includes('--remote');
// `npm run edge` (wrangler dev, local): the stream registry's D1 tables first, in the local
// database this dev server will use (--persist-to, when given, moves it).
if (localDev) {
  const persistAt = args.findIndex((arg) => arg === '--persist-to' || arg.startsWith('--persist-to='));
  const persistTo = persistAt < 0 ? undefined : args[persistAt]!.includes('=') ? args[persistAt]!.split('=')[1] : args[persistAt + 1];
  try {
    await applyLocalMigrations(PROJECT_ROOT, persistTo);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
}

// A local dev server runs in the environment npm start gives it (its trace collector off unless
// X_LOCAL_OBSERVABILITY is set). In our process group: a Ctrl-C at the terminal reaches wrangler
// itself, as when run directly.
const wrangler = spawn(process.execPath, [WRANGLER, ...args], { stdio: 'inherit', cwd: PROJECT_ROOT, env: localDev ? wranglerDevEnv(process.env) : process.env });

let forwarded = false;
// A signal sent to us alone (`kill`, scripts/node24.mjs when npm's shell is gone) is passed on,
// once: wrangler dev stops workerd on it. A terminal's Ctrl-C has reached wrangler already.
function forward(signal: NodeJS.Signals): void {
  if (forwarded) return;
  forwarded = true;
  if (signal !== 'SIGINT' || !process.stdin.isTTY) wrangler.kill(signal);
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => forward(signal));
wrangler.once('error', (error) => {
  console.error(`could not start wrangler (${WRANGLER}): ${error.message}; run npm install first`);
  process.exit(1);
});
wrangler.once('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
