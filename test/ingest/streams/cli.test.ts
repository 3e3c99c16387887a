import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../../scripts/lib/local-platform.ts';
import { verifyPlaybackToken } from '../../../shared/playback-token.ts';

/** Runs the real CLI, as `npm run streams -- ...` does. */
function streams(file: string, ...args: string[]) {
  return streamsWithEnv({}, file, ...args);
}

function streamsWithEnv(env: NodeJS.ProcessEnv, file: string, ...args: string[]) {
  const result = spawnSync(process.execPath, [join(PROJECT_ROOT, 'ingest/streams/cli.ts'), '--file', file, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('npm run streams', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'cli-')), 'streams.json');

  it('adds a stream, printing its key once, and lists it without the key', () => {
    const added = streams(file, '--json', 'add', 'main');
    expect(added.code).toBe(0);
    const { streamKey, playbackId } = JSON.parse(added.stdout) as { streamKey: string; playbackId: string };
    expect(streamKey).toMatch(/^sk_/);
    const listed = streams(file, '--json', 'list');
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ name: 'main', playbackId })]);
    expect(listed.stdout).not.toContain(streamKey);
    expect(readFileSync(file, 'utf8')).not.toContain(streamKey);
    const human = streams(file, 'list');
    expect(human.stdout).toContain(playbackId);
  });

  it('rotates a key: a new key, the same playback id', () => {
    const before = JSON.parse(streams(file, '--json', 'list').stdout) as { playbackId: string }[];
    const rotated = JSON.parse(streams(file, '--json', 'rotate-key', 'main').stdout) as { streamKey: string; playbackId: string };
    expect(rotated.playbackId).toBe(before[0]!.playbackId);
  });

  it.each([
    { name: 'an unknown command', args: ['frob'], stderr: /unknown command 'frob'[\s\S]*Usage: streams/ },
    { name: 'a missing name', args: ['add'], stderr: /missing required argument 'name'[\s\S]*Usage: streams add/ },
    { name: 'an invalid name', args: ['add', '../x'], stderr: /stream names are/ },
    { name: 'an unknown stream', args: ['remove', 'nope'], stderr: /no stream named "nope"/ },
  ])('exits non-zero with a usage line or reason for $name', ({ args, stderr }) => {
    const result = streams(file, ...args);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(stderr);
  });

  it('makes a stream signed, and mints tokens the edge verifies, bound to its playback id', async () => {
    const added = JSON.parse(streams(file, '--json', 'add', 'vip', '--signed').stdout) as { playbackId: string; playback: string };
    expect(added.playback).toBe('signed');
    expect(JSON.parse(streams(file, '--json', 'playback', 'main', 'signed').stdout)).toMatchObject({ name: 'main', playback: 'signed' });
    expect(JSON.parse(streams(file, '--json', 'playback', 'main', 'public').stdout)).toMatchObject({ name: 'main', playback: 'public' });
    expect(streams(file, 'playback', 'main', 'secret').stderr).toMatch(/public" or "signed/);

    expect(streams(file, 'token', 'vip').stderr).toMatch(/set PLAYBACK_SECRET/);
    const minted = streamsWithEnv({ PLAYBACK_SECRET: 'cli-secret' }, file, '--json', 'token', 'vip', '--ttl', '600');
    expect(minted.code).toBe(0);
    const { token, playbackId } = JSON.parse(minted.stdout) as { token: string; playbackId: string };
    expect(playbackId).toBe(added.playbackId);
    expect(await verifyPlaybackToken('cli-secret', token, added.playbackId, Date.now())).toMatchObject({ ok: true });
    expect(await verifyPlaybackToken('cli-secret', token, 'someone-else', Date.now())).toMatchObject({ ok: false });
    expect(streamsWithEnv({ PLAYBACK_SECRET: 'cli-secret' }, file, 'token', 'vip', '--ttl', '0').stderr).toMatch(/whole seconds/);
    expect(streams(file, 'remove', 'vip').code).toBe(0);
  });

  // What a newcomer reads after `streams add`: the watch URL must be one that plays.
  it.each([
    { flags: ['--signed'], mode: /\(signed: viewers also need a playback token\)/, watch: /Watch: +https:\/\/EDGE\/watch\/\w+\?token=TOKEN /, hint: /streams -- token/ },
    { flags: [], mode: /\(public: anyone with it can watch\)/, watch: /Watch: +https:\/\/EDGE\/watch\/\w+ /, hint: undefined },
  ])('says how a stream added with [$flags] is watched', ({ flags, mode, watch, hint }) => {
    const own = join(mkdtempSync(join(tmpdir(), 'cli-')), 'streams.json');
    const added = streams(own, 'add', 'show', ...flags);
    expect(added.code).toBe(0);
    expect(added.stdout).toMatch(mode);
    expect(added.stdout).toMatch(watch);
    if (hint) expect(added.stdout).toMatch(hint);
    else expect(added.stdout).not.toMatch(/token/);
  });

  it.each([
    { what: 'a name that is no stream', stream: 'nope' },
    { what: 'a playback id that is no stream', stream: '0fcnvcwje972q4uc939' },
  ])('mints no token for $what, and exits non-zero', ({ stream }) => {
    const result = streamsWithEnv({ PLAYBACK_SECRET: 'cli-secret' }, file, 'token', stream);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(new RegExp(`no stream named "${stream}" or with that playback id .*streams -- list`));
  });

  it('removes a stream', () => {
    expect(streams(file, 'remove', 'main').code).toBe(0);
    expect(JSON.parse(streams(file, '--json', 'list').stdout)).toEqual([]);
  });
});
