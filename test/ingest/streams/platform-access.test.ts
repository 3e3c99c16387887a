/**
 * The sidecar asking the platform's registry (PlatformAccess) against a real edge app over HTTP
 * (the Node edge's SQLite registry): keys by hash only, open mode while the registry is empty,
 * revocation of live publishers, and what happens when the edge does not answer.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { serve, type ServerType } from '@hono/node-server';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from '../../../edge/app.ts';
import { SqliteClient } from '../../../edge/platform/sqlite-client.ts';
import { SqlStreamRegistry, type StreamRecord } from '../../../edge/platform/stream-registry.ts';
import { PlatformAccess } from '../../../ingest/streams/platform-access.ts';
import { PROJECT_ROOT } from '../../../scripts/lib/local-platform.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import { generateStreamKey, streamKeySha256 } from '../../../shared/stream-keys.ts';

const SECRET = 'platform-access-ingest-secret';
const T0 = new Date().toISOString();
const servers: ServerType[] = [];

afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

async function platform(options: { secret?: string } = {}) {
  const client = new SqliteClient(new DatabaseSync(':memory:'));
  const migrations = join(PROJECT_ROOT, 'migrations');
  client.migrate(readdirSync(migrations).map((name) => ({ name, sql: readFileSync(join(migrations, name), 'utf8') })));
  const registry = new SqlStreamRegistry(client);
  const app = createApp({ store: new MemoryObjectStore(), ingestSecret: SECRET, registry, assets: { hlsJsVersion: '1', hlsJsSource: '', dashJsVersion: '1', dashJsSource: '' } });
  const bodies: string[] = [];
  const server = serve({
    fetch: async (request) => {
      bodies.push(await request.clone().text());
      return app.fetch(request);
    },
    hostname: '127.0.0.1',
    port: 0,
  });
  servers.push(server);
  await new Promise((resolve) => server.once('listening', resolve));
  const edgeUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let clock = Date.now();
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
  const ended: number[] = [];
  const access = (open = false) => new PlatformAccess({ edgeUrl, ingestSecret: options.secret ?? SECRET, open, log, now: () => clock, onOpenModeEnded: (count) => ended.push(count) });
  const addStream = async (name: string, overrides: Partial<StreamRecord> = {}) => {
    const key = generateStreamKey();
    await registry.create({ name, playbackId: `pb-${name}`, keySha256: await streamKeySha256(key), playback: 'public', reconnectWindowSeconds: null, retention: null, enabled: true, createdAt: T0, keyRotatedAt: T0, updatedAt: T0, ...overrides });
    return key;
  };
  return { registry, server, bodies, lines, ended, access, addStream, advance: (ms: number) => (clock += ms) };
}

describe('PlatformAccess: the sidecar asks the edge', () => {
  it('accepts a configured key by its hash (never sending the key), refuses a wrong key and a disabled stream', async () => {
    const { access, addStream, bodies } = await platform();
    const key = await addStream('main', { playback: 'signed', reconnectWindowSeconds: 20, retention: 'all' });
    const disabledKey = await addStream('off', { enabled: false });
    const policy = access();
    // With the stream's own settings, which the sidecar applies over its flags.
    expect(await policy.resolve(key)).toEqual({ playbackId: 'pb-main', name: 'main', playback: 'signed', credential: await streamKeySha256(key), reconnectWindowSeconds: 20, retention: 'all' });
    expect(await policy.resolve(generateStreamKey())).toEqual({ refuse: 'unknown stream key' });
    expect(await policy.resolve(disabledKey)).toEqual({ refuse: 'stream "off" is disabled', code: 'disabled' });
    // Keyed: a keyless name is no stream.
    expect(await policy.resolve('colors')).toEqual({ refuse: 'unknown stream key' });
    expect(bodies.length).toBeGreaterThan(0);
    for (const body of bodies) {
      expect(body).not.toContain(key);
      expect(body).not.toContain(disabledKey);
    }
  });

  it('stays in open mode while the registry is empty, and leaves it once a stream is configured', async () => {
    const { access, addStream, ended } = await platform();
    const policy = access(true);
    expect(await policy.resolve('colors')).toEqual({ playbackId: 'colors', name: 'colors', playback: 'public' });
    expect(await policy.resolve('../x')).toEqual({ refuse: expect.stringMatching(/1-64 letters/) });
    await addStream('main');
    expect(await policy.resolve('colors')).toEqual({ refuse: 'unknown stream key' });
    expect(policy.mode).toBe('keyed');
    expect(ended).toEqual([1]);
  });

  it('revokes a live publisher whose key was rotated or whose stream was disabled or removed; keeps the others', async () => {
    const { access, addStream, registry } = await platform();
    const keys = { a: await addStream('a'), b: await addStream('b'), c: await addStream('c'), d: await addStream('d') };
    const policy = access();
    const live = await Promise.all(Object.entries(keys).map(async ([name, key]) => ({ playbackId: `pb-${name}`, credential: await streamKeySha256(key) })));
    expect(await policy.revoked(live)).toEqual([]);
    await registry.rotateKey('a', 'f'.repeat(64), T0);
    await registry.update('b', { enabled: false }, T0);
    await registry.delete('c');
    expect(await policy.revoked(live)).toEqual(['pb-a', 'pb-b', 'pb-c']);
  });

  it('edge unreachable: a key accepted in the last 10 minutes publishes again, any other key is refused, live publishers are kept', async () => {
    const { access, addStream, server, advance } = await platform();
    const known = await addStream('known');
    const neverSeen = await addStream('never-seen');
    const policy = access(true);
    expect(await policy.resolve(known)).toMatchObject({ playbackId: 'pb-known' });
    server.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    advance(3_000);
    expect(await policy.resolve(known)).toMatchObject({ playbackId: 'pb-known', name: 'known' });
    expect(await policy.resolve(neverSeen)).toEqual({ refuse: 'stream registry unreachable; try again shortly', code: 'registry-unreachable' });
    expect(await policy.resolve(generateStreamKey())).toMatchObject({ code: 'registry-unreachable' });
    expect(await policy.revoked([{ playbackId: 'pb-known', credential: await streamKeySha256(known) }])).toEqual([]);
    advance(10 * 60_000);
    expect(await policy.resolve(known)).toMatchObject({ code: 'registry-unreachable' });
  });

  it('a key the edge refused is never accepted from memory', async () => {
    const { access, addStream, registry, server, advance } = await platform();
    const key = await addStream('main');
    const policy = access();
    expect(await policy.resolve(key)).toMatchObject({ playbackId: 'pb-main' });
    expect(policy.known(key)).toEqual({ playbackId: 'pb-main', name: 'main', playback: 'public', credential: await streamKeySha256(key) });
    expect(policy.known(generateStreamKey())).toBeUndefined();
    await registry.update('main', { enabled: false }, T0);
    advance(3_000);
    expect(await policy.resolve(key)).toMatchObject({ code: 'disabled' });
    // Nothing refused is known from memory (known() only ever refuses early a second publisher of a live stream).
    expect(policy.known(key)).toBeUndefined();
    server.close();
    advance(3_000);
    expect(await policy.resolve(key)).toMatchObject({ code: 'registry-unreachable' });
  });

  it('is refused by an edge with another ingest secret (fails closed)', async () => {
    const { access, addStream } = await platform({ secret: 'not-the-edge-secret' });
    const key = await addStream('main');
    expect(await access().resolve(key)).toMatchObject({ code: 'registry-unreachable' });
  });
});
