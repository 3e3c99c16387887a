/**
 * A stream's restream outputs from the platform registry reach the sidecar with its publish
 * decision: PlatformAccess against a real edge app over HTTP (the Node edge's SQLite registry).
 */
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { serve, type ServerType } from '@hono/node-server';
import pino from 'pino';
import { afterAll, expect, it } from 'vitest';
import { createApp } from '../../../edge/app.ts';
import { SqliteClient } from '../../../edge/platform/sqlite-client.ts';
import { currentOutputState, SqlStreamOutputs, UNREADABLE_KEY_REASON } from '../../../edge/platform/stream-outputs.ts';
import { SqlStreamRegistry } from '../../../edge/platform/stream-registry.ts';
import { targetKeySeal } from '../../../edge/platform/target-key-seal.ts';
import { PlatformAccess } from '../../../ingest/streams/platform-access.ts';
import { PROJECT_ROOT } from '../../../scripts/lib/local-platform.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import { generateStreamKey, streamKeySha256 } from '../../../shared/stream-keys.ts';

const SECRET = 'platform-outputs-ingest-secret';
const ADMIN = 'platform-outputs-admin';
let server: ServerType | undefined;
afterAll(() => server?.close());

it('the outputs added with `npm run streams -- outputs` on a running platform come with the stream\'s publish decision, keys included', async () => {
  const client = new SqliteClient(new DatabaseSync(':memory:'));
  const migrations = join(PROJECT_ROOT, 'migrations');
  client.migrate(readdirSync(migrations).map((name) => ({ name, sql: readFileSync(join(migrations, name), 'utf8') })));
  const registry = new SqlStreamRegistry(client);
  const app = createApp({ store: new MemoryObjectStore(), ingestSecret: SECRET, adminToken: ADMIN, registry, outputs: new SqlStreamOutputs(client, targetKeySeal(SECRET)), assets: { hlsJsVersion: '1', hlsJsSource: '', dashJsVersion: '1', dashJsSource: '' } });
  server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 });
  await new Promise((resolve) => server!.once('listening', resolve));
  const edgeUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const key = generateStreamKey();
  const at = new Date().toISOString();
  await registry.create({ name: 'main', playbackId: 'pb-main', keySha256: await streamKeySha256(key), playback: 'public', reconnectWindowSeconds: null, retention: null, enabled: true, createdAt: at, keyRotatedAt: at, updatedAt: at });
  // `npm run streams -- outputs add` against the running platform, the key on stdin.
  const cli = (args: string[], stdin?: string) =>
    new Promise<string>((resolve, reject) => {
      const child = execFile(process.execPath, [join(PROJECT_ROOT, 'ingest/streams/cli.ts'), '--edge-url', edgeUrl, '--json', ...args], { env: { ...process.env, ADMIN_TOKEN: ADMIN } }, (error, stdout, stderr) =>
        error ? reject(new Error(stderr)) : resolve(stdout),
      );
      child.stdin!.end(stdin ?? '');
    });
  const output = JSON.parse(await cli(['outputs', 'add', 'main', 'rtmp://a.rtmp.youtube.com/live2'], 'yt-target-key\n')) as { id: string; url: string };
  expect(output.url).toBe('rtmp://a.rtmp.youtube.com/live2/***');
  const listed = await cli(['outputs', 'list', 'main']);
  expect(JSON.parse(listed)).toEqual([{ id: output.id, url: 'rtmp://a.rtmp.youtube.com/live2/***', createdAt: expect.any(String), state: 'idle', status: 'idle' }]);
  expect(listed).not.toContain('yt-target-key');

  const access = new PlatformAccess({ edgeUrl, ingestSecret: SECRET, open: false, log: pino({ level: 'silent' }) });
  const decision = await access.resolve(key);
  expect(decision).toMatchObject({ playbackId: 'pb-main', outputs: [{ id: output.id, url: 'rtmp://a.rtmp.youtube.com/live2', key: 'yt-target-key' }] });

  // At rest the key is sealed: the database holds no trace of it.
  const rows = await client.all('SELECT * FROM stream_outputs', []);
  expect(rows).toHaveLength(1);
  expect(JSON.stringify(rows)).not.toContain('yt-target-key');
  expect(rows[0]).toMatchObject({ stream_key_sealed: 1 });
  // Under another secret (INGEST_SECRET changed) the key does not open: shown failed with what to do, and not sent to a sidecar.
  const otherEdge = new SqlStreamOutputs(client, targetKeySeal('another-secret'));
  const [unreadable] = await otherEdge.list('pb-main');
  expect(unreadable).toMatchObject({ id: output.id, key: '', keyUnreadable: true });
  expect(currentOutputState(unreadable!, new Date())).toEqual({ state: 'failed', reason: UNREADABLE_KEY_REASON });
  // Copied into another stream's row, a sealed key does not open either (bound to its output).
  await client.run("UPDATE stream_outputs SET playback_id = 'pb-other'", []);
  expect((await new SqlStreamOutputs(client, targetKeySeal(SECRET)).list('pb-other'))[0]).toMatchObject({ id: output.id, keyUnreadable: true });
});
