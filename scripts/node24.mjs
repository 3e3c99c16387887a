#!/usr/bin/env node
// Runs a TypeScript entry point under Node 24 or later: `node scripts/node24.mjs FILE.ts [args]`.
//
// This file is plain JavaScript on purpose: it must run on the older Node a machine may still
// have as `node` (Debian 12 ships Node 20, which can neither run our .ts files nor current
// wrangler and vitest). Under Node 24+ it runs FILE in this process. Otherwise it uses
// /opt/node24 (installing Node 24 there from the npm registry when running as root), and runs
// FILE under it with that Node first on PATH, so every tool FILE starts uses it too.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const REQUIRED_MAJOR = 24;
const NODE24_PREFIX = process.env.NODE24_PREFIX || '/opt/node24';
const node24 = `${NODE24_PREFIX}/bin/node`;
const installCommand = `npm install -g --prefix ${NODE24_PREFIX} node@${REQUIRED_MAJOR}`;

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  console.error('usage: node scripts/node24.mjs FILE.ts [args...]');
  process.exit(2);
}

function prependPath(dir) {
  process.env.PATH = `${dir}:${process.env.PATH ?? ''}`;
}

/**
 * Under npm, our parent is the shell npm started (`sh -c "node scripts/node24.mjs ..."`). `kill`
 * of npm's process (SIGTERM) reaches that shell, which dies without passing the signal on, and
 * left us (and wrangler, workerd, the sidecar) running and holding the ports. So under npm, a
 * parent gone is a stop request: `onOrphaned` runs once. Not outside npm: a script started
 * directly in the background may outlive the shell that started it.
 */
function stopWhenOrphaned(onOrphaned) {
  if (!process.env.npm_lifecycle_event) return;
  const parent = process.ppid;
  const timer = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(timer);
    onOrphaned();
  }, 250);
  timer.unref();
}

const major = Number(process.versions.node.split('.')[0]);
if (major >= REQUIRED_MAJOR) {
  prependPath(dirname(process.execPath));
  process.argv = [process.execPath, resolve(entry), ...args];
  // FILE's own SIGTERM handler (if any) stops what it started.
  stopWhenOrphaned(() => process.kill(process.pid, 'SIGTERM'));
  await import(pathToFileURL(resolve(entry)).href);
} else {
  if (!existsSync(node24)) {
    if (process.getuid?.() !== 0) {
      console.error(`This project needs Node ${REQUIRED_MAJOR}+ (this is ${process.version}). Install it with:\n  ${installCommand}\nthen run the command again (or use nvm: the project has an .nvmrc).`);
      process.exit(1);
    }
    console.error(`Node ${process.version} is too old; installing Node ${REQUIRED_MAJOR} into ${NODE24_PREFIX} (${installCommand})…`);
    const install = spawnSync('npm', ['install', '-g', '--prefix', NODE24_PREFIX, `node@${REQUIRED_MAJOR}`], { stdio: 'inherit' });
    if (install.status !== 0 || !existsSync(node24)) {
      console.error(`Could not install Node ${REQUIRED_MAJOR}. Install it yourself: ${installCommand}`);
      process.exit(1);
    }
  }
  prependPath(dirname(node24));
  // Node's own flags (e.g. V8 heap sizes) carry over to the Node 24 that runs FILE.
  const child = spawn(node24, [...process.execArgv, resolve(entry), ...args], { stdio: 'inherit' });
  // The child acts on the signal (FILE's handlers), this process waits for it to finish. A
  // Ctrl-C reaches the child from the terminal as well: FILE treats a repeated signal as the same
  // stop request.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  stopWhenOrphaned(() => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
