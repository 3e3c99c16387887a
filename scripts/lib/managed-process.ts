/** A child process started in its own process group, with its output as lines, stopped as a group. */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';

const SETPRIV = '/usr/bin/setpriv';

export interface ManagedProcessOptions {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  onLine?: (line: string) => void;
}

export class ManagedProcess {
  readonly name: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private readonly onLine: ((line: string) => void) | undefined;
  private exitedFlag = false;

  constructor(options: ManagedProcessOptions) {
    this.name = options.name;
    this.onLine = options.onLine;
    const spawnOptions: SpawnOptions = {
      cwd: options.cwd,
      env: options.env ?? process.env,
      // Its own group: stopping it stops what it started (wrangler's workerd, ffmpeg), and
      // stdin from /dev/null (wrangler's bundler dies when it is attached to a terminal job).
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    };
    // In its own group it would outlive a parent killed with SIGKILL: where util-linux's setpriv
    // exists, the kernel sends it SIGTERM when this process dies, however it dies.
    const [command, args] = existsSync(SETPRIV)
      ? [SETPRIV, ['--pdeathsig', 'SIGTERM', '--', options.command, ...options.args]]
      : [options.command, options.args];
    this.child = spawn(command, args, spawnOptions);
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => options.onLine?.(line));
    }
    this.exited = new Promise((resolve) => {
      this.child.once('error', (error) => {
        options.onLine?.(`could not start ${options.command}: ${error.message}`);
        this.exitedFlag = true;
        resolve({ code: null, signal: null });
      });
      this.child.once('exit', (code, signal) => {
        this.exitedFlag = true;
        resolve({ code, signal });
      });
    });
  }

  get hasExited(): boolean {
    return this.exitedFlag;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  signal(signal: NodeJS.Signals): void {
    if (this.exitedFlag || !this.child.pid) return;
    try {
      process.kill(-this.child.pid, signal);
    } catch {
      // Already gone.
    }
  }

  /** SIGTERM, then SIGKILL to the whole group if it has not exited within the grace time. */
  async stop(graceMs = 10_000): Promise<void> {
    this.signal('SIGTERM');
    const timer = setTimeout(() => {
      this.onLine?.(`${this.name} did not exit within ${graceMs / 1000} s of SIGTERM: killed`);
      this.signal('SIGKILL');
    }, graceMs);
    await this.exited;
    clearTimeout(timer);
    // Leftovers of the group (a grandchild that ignored SIGTERM) go too.
    this.signal('SIGKILL');
  }
}
