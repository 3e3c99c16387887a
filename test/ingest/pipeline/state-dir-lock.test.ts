import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { lockStateDir, STATE_LOCK_FILE, StateDirInUseError } from '../../../ingest/pipeline/state-dir-lock.ts';

describe('the state directory lock', () => {
  const children: ChildProcess[] = [];
  const otherProcess = () => {
    const child = spawn('sleep', ['60'], { stdio: 'ignore' });
    children.push(child);
    return child;
  };
  const exited = (child: ChildProcess) => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.once('exit', resolve)));
  afterEach(() => {
    for (const child of children.splice(0)) child.kill('SIGKILL');
  });

  it('belongs to one process: another running holder is named in the refusal', () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-'));
    const holder = otherProcess();
    lockStateDir(dir, holder.pid!);
    expect(() => lockStateDir(dir)).toThrow(StateDirInUseError);
    expect(() => lockStateDir(dir)).toThrow(new RegExp(`pid ${holder.pid}.*--state-dir`));
  });

  it('is taken over once its holder is gone (a crash, kill -9): a crash never leaves it stuck', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-'));
    const holder = otherProcess();
    lockStateDir(dir, holder.pid!);
    holder.kill('SIGKILL');
    await exited(holder);
    const lock = lockStateDir(dir);
    expect(readFileSync(join(dir, STATE_LOCK_FILE), 'utf8')).toMatch(new RegExp(`^${process.pid} \\d+\\n$`));
    lock.release();
    expect(existsSync(join(dir, STATE_LOCK_FILE))).toBe(false);
  });

  it('is taken over when its pid now belongs to another process (the pid was reused after a crash)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-'));
    const unrelated = otherProcess();
    writeFileSync(join(dir, STATE_LOCK_FILE), `${unrelated.pid} 1\n`);
    expect(() => lockStateDir(dir).release()).not.toThrow();
  });

  it('is released only by its holder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'state-'));
    const mine = lockStateDir(dir);
    writeFileSync(join(dir, STATE_LOCK_FILE), `${otherProcess().pid}\n`);
    mine.release();
    expect(existsSync(join(dir, STATE_LOCK_FILE))).toBe(true);
  });
});
