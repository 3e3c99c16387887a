/**
 * `npm run streams` against the platform: the real CLI talking to a real edge app (the Node
 * edge's SQLite registry, served over HTTP), found through --edge-url or the running platform's
 * state file; and a streams.json imported once (a second import changes nothing).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { serve, type ServerType } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../../edge/app.ts';
import { SqliteClient } from '../../../edge/platform/sqlite-client.ts';
import { SqlStreamRegistry } from '../../../edge/platform/stream-registry.ts';
import { writePlatformFile } from '../../../ingest/streams/platform-file.ts';
import { StreamStore } from '../../../ingest/streams/stream-store.ts';
import { PROJECT_ROOT } from '../../../scripts/lib/local-platform.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import { verifyPlaybackToken } from '../../../shared/playback-token.ts';
import { streamKeySha256 } from '../../../shared/stream-keys.ts';

const ADMIN_TOKEN = 'cli-platform-admin-token';
const PLAYBACK_SECRET = 'cli-platform-playback-secret';

/** The real CLI as `npm run streams -- ...` runs it (asynchronously: the edge is in this process). */
function streams(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(PROJECT_ROOT, 'ingest/streams/cli.ts'), ...args], { env: { ...process.env, EDGE_URL: '', ADMIN_TOKEN: '', STREAMS_FILE: '', ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}

describe('npm run streams against the edge management API', () => {
  let server: ServerType;
  let edgeUrl: string;
  let registry: SqlStreamRegistry;
  const dir = mkdtempSync(join(tmpdir(), 'cli-platform-'));

  beforeAll(async () => {
    const client = new SqliteClient(new DatabaseSync(join(dir, 'registry.sqlite')));
    const migrations = join(PROJECT_ROOT, 'migrations');
    client.migrate(readdirSync(migrations).map((name) => ({ name, sql: readFileSync(join(migrations, name), 'utf8') })));
    registry = new SqlStreamRegistry(client);
    const app = createApp({ store: new MemoryObjectStore(), ingestSecret: undefined, playbackSecret: PLAYBACK_SECRET, registry, adminToken: ADMIN_TOKEN, assets: { hlsJsVersion: '1', hlsJsSource: '', dashJsVersion: '1', dashJsSource: '' } });
    server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
    await new Promise((resolve) => server.once('listening', resolve));
    edgeUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => server.close());

  it('adds, lists, disables, enables, rotates, mints a token for and removes a stream through --edge-url', async () => {
    const env = { EDGE_URL: edgeUrl, ADMIN_TOKEN };
    const added = await streams(env, '--json', 'add', 'main', '--signed');
    expect(added.code).toBe(0);
    const { streamKey, playbackId } = JSON.parse(added.stdout) as { streamKey: string; playbackId: string };
    expect((await registry.findByKeySha256(await streamKeySha256(streamKey)))?.name).toBe('main');

    const listed = await streams(env, '--json', 'list');
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ name: 'main', playbackId, playback: 'signed', enabled: true })]);
    expect(listed.stdout).not.toContain(streamKey);

    expect((await streams(env, 'disable', 'main')).stdout).toMatch(/disabled/);
    expect((await registry.get('main'))?.enabled).toBe(false);
    expect(JSON.parse((await streams(env, '--json', 'enable', 'main')).stdout)).toMatchObject({ enabled: true });

    const rotated = JSON.parse((await streams(env, '--json', 'rotate-key', 'main')).stdout) as { streamKey: string; playbackId: string };
    expect(rotated.playbackId).toBe(playbackId);
    expect(await registry.findByKeySha256(await streamKeySha256(streamKey))).toBeUndefined();

    const minted = JSON.parse((await streams(env, '--json', 'token', playbackId, '--ttl', '600')).stdout) as { token: string };
    expect(await verifyPlaybackToken(PLAYBACK_SECRET, minted.token, playbackId, Date.now())).toMatchObject({ ok: true });

    expect((await streams(env, 'remove', 'main')).code).toBe(0);
    expect(await registry.count()).toBe(0);
  });

  it("finds a running platform through its state file, and says the API's reasons", async () => {
    const stateDir = join(dir, 'state');
    const remove = writePlatformFile(stateDir, { edgeUrl, adminToken: ADMIN_TOKEN });
    expect(statSync(join(stateDir, 'platform.json')).mode & 0o777).toBe(0o600);
    try {
      expect((await streams({ STATE_DIR: stateDir }, 'add', 'fromstate')).code).toBe(0);
      expect(await registry.get('fromstate')).toBeDefined();
      const refused = await streams({ STATE_DIR: stateDir }, 'add', 'fromstate');
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('a stream named "fromstate" already exists');
      const wrongToken = await streams({ STATE_DIR: stateDir, ADMIN_TOKEN: 'wrong' }, 'list');
      expect(wrongToken.stderr).toContain('wrong admin token');
    } finally {
      remove();
    }
    // No platform running: the streams file, said so.
    const file = join(dir, 'offline.json');
    const offline = await streams({ STATE_DIR: stateDir, STREAMS_FILE: file }, 'add', 'offline');
    expect(offline.code).toBe(0);
    expect(offline.stderr).toMatch(/no platform running: using streams file .*offline\.json/);
    expect(new StreamStore(file).list().map((stream) => stream.name)).toEqual(['offline']);
    expect(await registry.get('offline')).toBeUndefined();
  });

  it('imports a streams.json once: its keys keep working, a second import skips every stream', async () => {
    const file = join(dir, 'import.json');
    const store = new StreamStore(file);
    const { stream, key } = store.add('imported', new Date('2026-11-01T00:00:00Z'), 'signed');
    const env = { EDGE_URL: edgeUrl, ADMIN_TOKEN };
    expect(JSON.parse((await streams(env, '--json', 'import', '--from', file)).stdout)).toEqual({ imported: ['imported'], skipped: [] });
    expect(await registry.findByKeySha256(await streamKeySha256(key))).toMatchObject({ name: 'imported', playbackId: stream.playbackId, playback: 'signed', createdAt: '2026-11-01T00:00:00.000Z' });
    expect(JSON.parse((await streams(env, '--json', 'import', '--from', file)).stdout)).toEqual({ imported: [], skipped: ['imported'] });
    expect(await registry.count()).toBe(2);
  });
});
