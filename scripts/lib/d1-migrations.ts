/**
 * The stream registry's D1 migrations (migrations/) applied to the local database `wrangler dev`
 * uses, before it starts: `npm start`, `npm run edge` and the end-to-end tests' edge all get
 * the tables without a manual `wrangler d1 migrations apply DB --local`.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

/** The D1 binding of wrangler.toml. */
export const REGISTRY_BINDING = 'DB';

async function applyOnce(projectRoot: string, persistTo: string | undefined): Promise<{ code: number | null; output: string }> {
  const args = ['d1', 'migrations', 'apply', REGISTRY_BINDING, '--local', ...(persistTo ? ['--persist-to', persistTo] : [])];
  // stdin from /dev/null: wrangler asks nothing then (no terminal), and applies.
  const child = spawn(join(projectRoot, 'node_modules', '.bin', 'wrangler'), args, {
    cwd: projectRoot,
    env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CI: 'true' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  for (const stream of [child.stdout, child.stderr]) stream.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve) => {
    child.once('error', () => resolve(-1));
    child.once('close', resolve);
  });
  return { code, output };
}

/**
 * Applies what is not applied yet (wrangler records applied migrations in the database). Tried
 * twice: two edges starting at once on one local database can race on wrangler's bookkeeping.
 */
export async function applyLocalMigrations(projectRoot: string, persistTo?: string): Promise<void> {
  let last = await applyOnce(projectRoot, persistTo);
  if (last.code !== 0) last = await applyOnce(projectRoot, persistTo);
  if (last.code !== 0) throw new Error(`wrangler d1 migrations apply ${REGISTRY_BINDING} --local failed (exit ${last.code}): ${last.output.trim().split('\n').slice(-5).join(' / ')}`);
}
