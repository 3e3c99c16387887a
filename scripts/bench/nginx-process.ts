/**
 * What every nginx the scripts start shares: the binary, the main-context lines (foreground, one
 * worker, pid and error log in its own directory, workers as `user` when started as root), the
 * temporary paths of its http block, and starting it as a managed process that must answer.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ManagedProcess } from '../lib/managed-process.ts';
import { findOnPath } from '../lib/system-tools.ts';

export function nginxBinary(): string | undefined {
  return findOnPath('nginx') ?? (existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : undefined);
}

/** Main-context lines for an nginx whose files all live in `dir`. */
export function nginxMainLines(options: { dir: string; user?: string; workerConnections: number }): string[] {
  return [
    ...(options.user ? [`user ${options.user};`] : []),
    'daemon off;',
    'master_process on;',
    // One worker: nginx-rtmp's README advises it for live streams (several need rtmp_auto_push),
    // and a load run's caching proxy on 2 cores needs no more.
    'worker_processes 1;',
    `pid ${join(options.dir, 'nginx.pid')};`,
    `error_log ${join(options.dir, 'error.log')} warn;`,
    `events { worker_connections ${options.workerConnections}; }`,
  ];
}

/** The http block's temporary paths, under `dir/temp` (never nginx's default /var paths). */
export function nginxTempPathLines(dir: string): string[] {
  return ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((kind) => `  ${kind}_temp_path ${join(dir, 'temp', kind)};`);
}

export interface NginxStartOptions {
  /** How errors and the managed process call it. */
  name: string;
  binary: string;
  dir: string;
  config: string;
  url: string;
  /** Whether a response of `url` means it is up. */
  answered: (response: Response) => boolean;
  onLine?: (line: string) => void;
}

/** Writes the configuration, starts nginx in the foreground, and waits (15 s at most) until `url` answers. */
export async function startNginx(options: NginxStartOptions): Promise<ManagedProcess> {
  const { dir, name, url } = options;
  const config = join(dir, 'nginx.conf');
  writeFileSync(config, options.config);
  const errorLog = join(dir, 'error.log');
  const managed = new ManagedProcess({ name, command: options.binary, args: ['-c', config, '-p', dir, '-e', errorLog], onLine: options.onLine });
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (managed.hasExited) throw new Error(`${name} exited at start; see ${errorLog}`);
    const up = await fetch(url, { signal: AbortSignal.timeout(1000) }).then(
      (response) => {
        void response.body?.cancel();
        return options.answered(response);
      },
      () => false,
    );
    if (up) return managed;
    if (Date.now() > deadline) {
      await managed.stop();
      throw new Error(`${name} did not answer on ${url} within 15 s; see ${errorLog}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
