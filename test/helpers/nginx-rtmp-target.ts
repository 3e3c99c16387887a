/**
 * A restream target for tests: nginx with the RTMP module (as the bench runs it: foreground, its
 * own folder, non-root workers when started as root) recording everything published to its app
 * `push` into FLV files, one per publish. It can be stopped and started again on the same port.
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureNginxRtmp } from '../../scripts/bench/nginx-peer.ts';
import { nginxMainLines, nginxTempPathLines, startNginx } from '../../scripts/bench/nginx-process.ts';
import type { ManagedProcess } from '../../scripts/lib/managed-process.ts';
import { freePort } from './network.ts';

export interface RtmpTarget {
  /** The output URL without the key: rtmp://127.0.0.1:PORT/push */
  url: string;
  /** Recorded FLV files, oldest first (their names hold the publish time). */
  recordings(): string[];
  /** Starts nginx (again, on the same port and folder). */
  start(): Promise<void>;
  /** Kills nginx at once (SIGKILL: the target goes away as a crashed server does). */
  kill(): Promise<void>;
  /** Stops nginx and removes its folder. */
  close(): Promise<void>;
}

export async function createRtmpTarget(): Promise<RtmpTarget> {
  const { nginx, module } = ensureNginxRtmp();
  const dir = mkdtempSync(join(tmpdir(), 'e2e-restream-nginx-'));
  const recordDir = join(dir, 'record');
  for (const sub of ['record', 'temp']) mkdirSync(join(dir, sub), { recursive: true });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    // Its workers run as nobody: they must reach the folder and write the recordings.
    chmodSync(dir, 0o755);
    for (const sub of ['record', 'temp']) chmodSync(join(dir, sub), 0o777);
  }
  const rtmpPort = await freePort();
  const httpPort = await freePort();
  const config = [
    `load_module ${module};`,
    ...nginxMainLines({ dir, user: asRoot ? 'nobody nogroup' : undefined, workerConnections: 256 }),
    'rtmp {',
    '  server {',
    `    listen 127.0.0.1:${rtmpPort};`,
    '    application push {',
    '      live on;',
    '      record all;',
    `      record_path ${recordDir};`,
    '      record_unique on;',
    '    }',
    '  }',
    '}',
    'http {',
    ...nginxTempPathLines(dir),
    `  access_log off;`,
    '  server {',
    `    listen 127.0.0.1:${httpPort};`,
    "    location / { return 200 'up'; }",
    '  }',
    '}',
  ].join('\n');
  let running: ManagedProcess | undefined;
  return {
    url: `rtmp://127.0.0.1:${rtmpPort}/push`,
    recordings: () =>
      readdirSync(recordDir)
        .filter((name) => name.endsWith('.flv'))
        .sort((a, b) => Number(/-(\d+)\.flv$/.exec(a)?.[1] ?? 0) - Number(/-(\d+)\.flv$/.exec(b)?.[1] ?? 0))
        .map((name) => join(recordDir, name)),
    start: async () => {
      running = await startNginx({ name: 'nginx-target', binary: nginx, dir, config, url: `http://127.0.0.1:${httpPort}/`, answered: (response) => response.ok });
    },
    kill: async () => {
      running?.signal('SIGKILL');
      await running?.exited;
      running = undefined;
    },
    close: async () => {
      await running?.stop();
      running = undefined;
      rmSync(dir, { recursive: true, force: true, maxRetries: 5 });
    },
  };
}
