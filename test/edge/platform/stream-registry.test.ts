/** The SQL stream registry on a real SQLite (node:sqlite), migrated from migrations/ as the Node and Deno edges do. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, expect, it } from 'vitest';
import { SqliteClient } from '../../../edge/platform/sqlite-client.ts';
import { SqlStreamRegistry, type StreamRecord } from '../../../edge/platform/stream-registry.ts';
import { PROJECT_ROOT } from '../../../scripts/lib/local-platform.ts';

const MIGRATIONS = join(PROJECT_ROOT, 'migrations');
const T0 = '2026-12-06T00:00:00.000Z';

const migrations = () => readdirSync(MIGRATIONS).filter((name) => name.endsWith('.sql')).map((name) => ({ name, sql: readFileSync(join(MIGRATIONS, name), 'utf8') }));

function newRegistry() {
  const client = new SqliteClient(new DatabaseSync(':memory:'));
  expect(client.migrate(migrations())).toEqual(readdirSync(MIGRATIONS).filter((name) => name.endsWith('.sql')).sort());
  return { client, registry: new SqlStreamRegistry(client) };
}

function stream(name: string, overrides: Partial<StreamRecord> = {}): StreamRecord {
  const hex = (seed: string) => [...seed.padEnd(32, '0')].map((char) => char.charCodeAt(0).toString(16).padStart(2, '0')).join('').slice(0, 64);
  return { name, playbackId: `pb${name}`, keySha256: hex(name), playback: 'public', reconnectWindowSeconds: null, retention: null, enabled: true, createdAt: T0, keyRotatedAt: T0, updatedAt: T0, webhookUrls: null, ...overrides };
}

describe('SqlStreamRegistry on node:sqlite', () => {
  it('applies each migration once', () => {
    const { client } = newRegistry();
    expect(client.migrate(migrations())).toEqual([]);
  });

  it('creates, finds by name, playback id and key hash, and refuses a taken name, playback id or key', async () => {
    const { registry } = newRegistry();
    const main = stream('main', { playback: 'signed', reconnectWindowSeconds: 20, retention: 'all' });
    expect(await registry.create(main)).toBe(true);
    expect(await registry.get('main')).toEqual(main);
    expect(await registry.findByPlaybackId('pbmain')).toEqual(main);
    expect(await registry.findByKeySha256(main.keySha256)).toEqual(main);
    expect(await registry.create(stream('main', { playbackId: 'other', keySha256: 'f'.repeat(64) }))).toBe(false);
    expect(await registry.create(stream('second', { playbackId: 'pbmain' }))).toBe(false);
    expect(await registry.create(stream('third', { keySha256: main.keySha256 }))).toBe(false);
    expect(await registry.count()).toBe(1);
  });

  it('lists in name order, a page at a time', async () => {
    const { registry } = newRegistry();
    for (const name of ['c', 'a', 'e', 'b', 'd']) await registry.create(stream(name));
    expect((await registry.list({ limit: 2 })).map((s) => s.name)).toEqual(['a', 'b']);
    expect((await registry.list({ limit: 2, after: 'b' })).map((s) => s.name)).toEqual(['c', 'd']);
    expect((await registry.list({ limit: 2, after: 'd' })).map((s) => s.name)).toEqual(['e']);
  });

  it('updates only the fields given, and can clear a setting back to the sidecar default', async () => {
    const { registry } = newRegistry();
    await registry.create(stream('main', { reconnectWindowSeconds: 30 }));
    const later = '2026-12-06T01:00:00.000Z';
    expect(await registry.update('main', { enabled: false, playback: 'signed' }, later)).toMatchObject({ enabled: false, playback: 'signed', reconnectWindowSeconds: 30, updatedAt: later, keyRotatedAt: T0 });
    expect(await registry.update('main', { reconnectWindowSeconds: null, retention: 'window' }, later)).toMatchObject({ enabled: false, reconnectWindowSeconds: null, retention: 'window' });
    expect(await registry.update('nope', { enabled: true }, later)).toBeUndefined();
  });

  it("keeps a stream's own webhook URLs, and clears them back to the platform's", async () => {
    const { registry } = newRegistry();
    await registry.create(stream('main', { webhookUrls: ['https://hooks.example.com/a'] }));
    expect((await registry.get('main'))?.webhookUrls).toEqual(['https://hooks.example.com/a']);
    expect((await registry.update('main', { webhookUrls: ['https://x.example/1', 'http://127.0.0.1:9/2'] }, T0))?.webhookUrls).toEqual(['https://x.example/1', 'http://127.0.0.1:9/2']);
    expect((await registry.update('main', { webhookUrls: null }, T0))?.webhookUrls).toBeNull();
  });

  it('rotates a key: the old hash finds nothing, the new one the stream', async () => {
    const { registry } = newRegistry();
    const main = stream('main');
    await registry.create(main);
    const later = '2026-12-06T02:00:00.000Z';
    expect(await registry.rotateKey('main', 'a'.repeat(64), later)).toMatchObject({ keySha256: 'a'.repeat(64), keyRotatedAt: later, createdAt: T0 });
    expect(await registry.findByKeySha256(main.keySha256)).toBeUndefined();
    expect((await registry.findByKeySha256('a'.repeat(64)))?.name).toBe('main');
  });

  it('keeps SQL-looking values as plain data (bound parameters)', async () => {
    const { registry } = newRegistry();
    await registry.create(stream('main'));
    const hostile = "x'; DROP TABLE streams; --";
    expect(await registry.get(hostile)).toBeUndefined();
    expect(await registry.findByKeySha256(hostile)).toBeUndefined();
    expect(await registry.delete(hostile)).toBe(false);
    // Compared as a string ('~' sorts after every name), not as SQL.
    expect(await registry.list({ limit: 10, after: "~' OR '1'='1" })).toEqual([]);
    expect(await registry.count()).toBe(1);
  });

  it('deletes', async () => {
    const { registry } = newRegistry();
    await registry.create(stream('main'));
    expect(await registry.delete('main')).toBe(true);
    expect(await registry.delete('main')).toBe(false);
    expect(await registry.count()).toBe(0);
  });
});
