/// <reference types="@cloudflare/vitest-plugin/types" />
/**
 * The sidecar's registry lookup (POST /_ingest/registry/lookup) in workerd with D1: key hashes in,
 * streams out; only with a registry token from the ingest secret; hostile bodies refused.
 */
import { applyD1Migrations, type D1Migration } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { D1Client } from '../../edge/platform/d1-client.ts';
import { SqlStreamRegistry } from '../../edge/platform/stream-registry.ts';
import { createWorkerApp, type Env } from '../../edge/worker.ts';
import { registryLookupToken } from '../../shared/registry-lookup.ts';
import { streamWriteToken } from '../../shared/write-api.ts';

const bindings = env as unknown as Env & { TEST_MIGRATIONS: D1Migration[] };
const SECRET = 'registry-lookup-ingest-secret';
const registry = new SqlStreamRegistry(new D1Client(bindings.DB));
const HASH = 'c'.repeat(64);
const app = createWorkerApp({ ...bindings, INGEST_SECRET: SECRET });

const lookup = (body: string, bearer?: string) =>
  app.request('https://edge.example.com/_ingest/registry/lookup', { method: 'POST', headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) }, body });

beforeAll(async () => {
  await applyD1Migrations(bindings.DB, bindings.TEST_MIGRATIONS);
  await bindings.DB.prepare('DELETE FROM streams').run();
  const at = new Date().toISOString();
  await registry.create({ name: 'main', playbackId: 'pbmain', keySha256: HASH, playback: 'signed', reconnectWindowSeconds: 15, retention: null, enabled: true, createdAt: at, keyRotatedAt: at, updatedAt: at });
});

describe('the registry lookup in workerd', () => {
  it('answers the streams of the key hashes asked, and how many streams there are', async () => {
    const response = await lookup(JSON.stringify({ keys: [HASH, 'd'.repeat(64)] }), await registryLookupToken(SECRET));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ configured: 1, streams: [{ name: 'main', playbackId: 'pbmain', playback: 'signed', enabled: true, reconnectWindowSeconds: 15, retention: null }, null] });
  });

  it.each([
    { name: 'no credential', bearer: async () => undefined, body: { keys: [HASH] }, status: 401 },
    { name: 'the ingest secret itself (never sent by a sidecar)', bearer: async () => SECRET, body: { keys: [HASH] }, status: 403 },
    { name: 'a stream write token', bearer: () => streamWriteToken(SECRET, 'main'), body: { keys: [HASH] }, status: 403 },
    { name: 'a token from another secret', bearer: () => registryLookupToken('another-secret'), body: { keys: [HASH] }, status: 403 },
    { name: 'an expired token', bearer: () => registryLookupToken(SECRET, Date.now() - 2 * 3600_000), body: { keys: [HASH] }, status: 403 },
    { name: 'a key instead of its hash', bearer: () => registryLookupToken(SECRET), body: { keys: ['sk_' + 'a'.repeat(43)] }, status: 400 },
    { name: 'a SQL-looking hash', bearer: () => registryLookupToken(SECRET), body: { keys: ["' OR 1=1 --"] }, status: 400 },
    { name: 'too many hashes', bearer: () => registryLookupToken(SECRET), body: { keys: Array(501).fill(HASH) }, status: 400 },
    { name: 'no keys field', bearer: () => registryLookupToken(SECRET), body: { key: HASH }, status: 400 },
    { name: 'an oversized body', bearer: () => registryLookupToken(SECRET), body: { keys: [HASH], pad: 'x'.repeat(70_000) }, status: 413 },
  ])('refuses $name with $status', async ({ bearer, body, status }) => {
    const response = await lookup(JSON.stringify(body), await bearer());
    expect(response.status).toBe(status);
    expect(await response.json()).toEqual({ error: expect.any(String) });
  });
});
