/**
 * A sidecar's state directory belongs to one sidecar at a time: a second one started on the same
 * folder would take up the first one's live streams as if it had crashed, and end them. The lock
 * is a file holding the owner's pid; a lock whose process is gone (a crash, a kill -9) is stale
 * and taken over, so a crash never leaves it stuck.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const STATE_LOCK_FILE = 'sidecar.lock';

export class StateDirInUseError extends Error {
  override name = 'StateDirInUseError';
}

export interface StateDirLock {
  release(): void;
}

/**
 * The kernel's start time of a process (clock ticks since boot, /proc/PID/stat field 22), or
 * undefined where there is no /proc or no such process: with the pid it names one process, even
 * after the pid is reused.
 */
function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces and parentheses): state is field 3.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[0] === 'Z' ? undefined : fields[19];
  } catch {
    return undefined;
  }
}

/** Whether the lock's holder (`pid [start time]`) is still the process that wrote it. */
function holderRuns(pid: number, startTime: string | undefined): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it runs, under another user.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = startTimeOf(pid);
  // Without /proc (not Linux) the signal is all there is to go by.
  if (now === undefined) return startTime === undefined && process.platform !== 'linux';
  return startTime === undefined || now === startTime;
}

/** Takes the lock of `dir` for this process, or throws StateDirInUseError naming its holder. */
export function lockStateDir(dir: string, pid = process.pid): StateDirLock {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, STATE_LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt += 1) {
    try {
      // O_EXCL: of two sidecars starting at once, exactly one creates the file.
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${pid} ${startTimeOf(pid) ?? ''}`.trim() + '\n');
      closeSync(fd);
      return { release: () => releaseIfOurs(path, pid) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const [holderText, holderStart] = readHolder(path).split(' ');
    const holder = Number.parseInt(holderText ?? '', 10);
    if (holder === pid) return { release: () => releaseIfOurs(path, pid) };
    if (Number.isInteger(holder) && holder > 0 && holderRuns(holder, holderStart)) {
      throw new StateDirInUseError(
        `the state directory ${dir} belongs to another sidecar (pid ${holder}), which is running: stop it, or give this one its own --state-dir (STATE_DIR)`,
      );
    }
    // Stale: its sidecar is gone. Removed, then created again above (another starter may win).
    rmSync(path, { force: true });
  }
  throw new StateDirInUseError(`could not take the lock ${path}: other sidecars keep starting on ${dir}`);
}

function readHolder(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

function releaseIfOurs(path: string, pid: number): void {
  if (readHolder(path).split(' ')[0] === String(pid)) rmSync(path, { force: true });
}
