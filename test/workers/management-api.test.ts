/// <reference types="@cloudflare/vitest-plugin/types" />
/**
 * The management API (/api/v1/streams) inside workerd with the D1 registry of wrangler.toml,
 * migrated from migrations/ as `wrangler d1 migrations apply` does: the whole life of a stream,
 * pagination, and hostile inputs (bad names, oversized bodies, missing or wrong admin token,
 * SQL-looking names), each a 4xx that changes nothing in the database.
 */
import { applyD1Migrations, type D1Migration } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { D1Client } from '../../edge/platform/d1-client.ts';
import { SqlStreamRegistry } from '../../edge/platform/stream-registry.ts';
import { createWorkerApp, type Env } from '../../edge/worker.ts';
import { verifyPlaybackToken } from '../../shared/playback-token.ts';
import { STREAM_KEY_PATTERN, streamKeySha256 } from '../../shared/stream-keys.ts';

const bindings = env as unknown as Env & { TEST_MIGRATIONS: D1Migration[] };
const ADMIN_TOKEN = 'management-admin-token-0123456789';
const PLAYBACK_SECRET = 'management-playback-secret';
const ORIGIN = 'https://edge.example.com';
const registry = new SqlStreamRegistry(new D1Client(bindings.DB));

/** `null`: an edge without ADMIN_TOKEN. */
function newApp(adminToken: string | null = ADMIN_TOKEN) {
  return createWorkerApp({ ...bindings, INGEST_SECRET: undefined, PLAYBACK_SECRET, ADMIN_TOKEN: adminToken ?? undefined });
}

async function api(path: string, init: RequestInit & { token?: string | null; json?: unknown } = {}) {
  const headers = new Headers(init.headers);
  if (init.token !== null) headers.set('authorization', `Bearer ${init.token ?? ADMIN_TOKEN}`);
  if (init.json !== undefined) headers.set('content-type', 'application/json');
  const response = await newApp().request(`${ORIGIN}/api/v1/streams${path}`, { ...init, headers, body: init.json !== undefined ? JSON.stringify(init.json) : init.body });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as Record<string, any> }; // any: JSON answers of many shapes, read field by field
}

/** Every row as stored: what a refused request must leave as it was. */
async function snapshot() {
  return (await bindings.DB.prepare('SELECT * FROM streams ORDER BY name').all()).results;
}

beforeAll(async () => {
  await applyD1Migrations(bindings.DB, bindings.TEST_MIGRATIONS);
});

beforeEach(async () => {
  await bindings.DB.prepare('DELETE FROM streams').run();
});

describe('the management API in workerd with D1', () => {
  it('creates a stream (key shown once, only its hash stored), gets, lists, updates, disables, enables, rotates and deletes it', async () => {
    const created = await api('', { method: 'POST', json: { name: 'main', playback: 'signed', reconnectWindowSeconds: 20 } });
    expect(created.status).toBe(201);
    const key = created.body.streamKey as string;
    expect(key).toMatch(STREAM_KEY_PATTERN);
    expect(created.body.stream).toMatchObject({ name: 'main', playback: 'signed', reconnectWindowSeconds: 20, retention: null, enabled: true });
    const rows = await snapshot();
    expect(JSON.stringify(rows)).not.toContain(key);
    expect(rows[0]).toMatchObject({ key_sha256: await streamKeySha256(key) });

    const got = await api('/main');
    expect(got.body.stream).toEqual(created.body.stream);
    expect(JSON.stringify(got.body)).not.toContain(key);
    expect(JSON.stringify(got.body)).not.toContain(await streamKeySha256(key));

    expect((await api('', { method: 'POST', json: { name: 'main' } })).status).toBe(409);

    const updated = await api('/main', { method: 'PATCH', json: { retention: 'all', webhookUrls: ['https://hooks.example.com/main'] } });
    expect(updated.body.stream).toMatchObject({ retention: 'all', reconnectWindowSeconds: 20, playback: 'signed', webhookUrls: ['https://hooks.example.com/main'] });
    expect((await api('/main/disable', { method: 'POST' })).body.stream.enabled).toBe(false);
    expect((await api('/main/enable', { method: 'POST' })).body.stream.enabled).toBe(true);

    const rotated = await api('/main/rotate-key', { method: 'POST' });
    expect(rotated.status).toBe(200);
    expect(rotated.body.streamKey).toMatch(STREAM_KEY_PATTERN);
    expect(rotated.body.streamKey).not.toBe(key);
    expect(await registry.findByKeySha256(await streamKeySha256(key))).toBeUndefined();
    expect((await registry.findByKeySha256(await streamKeySha256(rotated.body.streamKey)))?.name).toBe('main');

    const minted = await api('/main/playback-tokens', { method: 'POST', json: { ttlSeconds: 600 } });
    expect(minted.status).toBe(201);
    expect(await verifyPlaybackToken(PLAYBACK_SECRET, minted.body.token, created.body.stream.playbackId, Date.now())).toMatchObject({ ok: true });

    expect((await api('/main', { method: 'DELETE' })).body.deleted.name).toBe('main');
    expect((await api('/main')).status).toBe(404);
    expect(await snapshot()).toEqual([]);
  });

  it('lists a page at a time with a cursor, never showing keys', async () => {
    for (const name of ['e', 'a', 'd', 'c', 'b']) expect((await api('', { method: 'POST', json: { name } })).status).toBe(201);
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const page = await api(`?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      pages.push(page.body.streams.map((stream: { name: string }) => stream.name));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(pages).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });

  it('imports a streams.json once: keys and playback ids kept, a second import skips them all', async () => {
    const streams = [{ name: 'old', playbackId: 'oldplaybackid123456', keySha256: 'b'.repeat(64), playback: 'signed', createdAt: '2026-11-01T00:00:00.000Z', keyRotatedAt: '2026-11-02T00:00:00.000Z' }];
    expect((await api('/import', { method: 'POST', json: { streams } })).body).toEqual({ imported: ['old'], skipped: [] });
    expect((await api('/import', { method: 'POST', json: { streams } })).body).toEqual({ imported: [], skipped: ['old'] });
    expect(await registry.findByKeySha256('b'.repeat(64))).toMatchObject({ name: 'old', playbackId: 'oldplaybackid123456', playback: 'signed', createdAt: '2026-11-01T00:00:00.000Z' });
  });

  it('answers 503 when the edge has no admin token', async () => {
    const response = await newApp(null).request(`${ORIGIN}/api/v1/streams`, { headers: { authorization: 'Bearer anything' } });
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ error: expect.stringContaining('ADMIN_TOKEN') });
  });

  const hostile: { name: string; path: string; init: RequestInit & { token?: string | null; json?: unknown }; status: number }[] = [
    { name: 'no admin token', path: '', init: { method: 'POST', token: null, json: { name: 'evil' } }, status: 401 },
    { name: 'a wrong admin token', path: '', init: { method: 'POST', token: 'guess', json: { name: 'evil' } }, status: 403 },
    { name: 'the admin token with one character more', path: '/main', init: { method: 'DELETE', token: `${ADMIN_TOKEN}x` }, status: 403 },
    { name: 'a wrong token listing', path: '', init: { token: 'guess' }, status: 403 },
    { name: 'a SQL-looking name in the body', path: '', init: { method: 'POST', json: { name: "x'); DROP TABLE streams; --" } }, status: 400 },
    { name: 'a SQL-looking name in the path', path: `/${encodeURIComponent("main' OR '1'='1")}`, init: { method: 'DELETE' }, status: 400 },
    { name: 'an upper-case name in the path', path: '/MAIN/disable', init: { method: 'POST' }, status: 400 },
    { name: 'an encoded slash in the name', path: '/..%2Fmain', init: { method: 'DELETE' }, status: 400 },
    { name: 'a name too long', path: `/${'a'.repeat(64)}`, init: { method: 'PATCH', json: { enabled: false } }, status: 400 },
    { name: 'a stream that does not exist', path: '/nope/rotate-key', init: { method: 'POST' }, status: 404 },
    { name: 'an unknown field', path: '/main', init: { method: 'PATCH', json: { keySha256: 'c'.repeat(64) } }, status: 400 },
    { name: 'a number out of range', path: '/main', init: { method: 'PATCH', json: { reconnectWindowSeconds: 1e9 } }, status: 400 },
    { name: 'an enum out of range', path: '/main', init: { method: 'PATCH', json: { playback: 'everyone' } }, status: 400 },
    { name: 'a type mismatch', path: '/main', init: { method: 'PATCH', json: { enabled: 'false' } }, status: 400 },
    { name: 'a script URL as a webhook', path: '/main', init: { method: 'PATCH', json: { webhookUrls: ['javascript:alert(1)'] } }, status: 400 },
    { name: 'not JSON', path: '/main', init: { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: '{"enabled": fal' }, status: 400 },
    { name: 'a form instead of JSON', path: '', init: { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'name=evil' }, status: 415 },
    { name: 'an oversized body (declared)', path: '', init: { method: 'POST', json: { name: 'evil', pad: 'x'.repeat(20_000) } }, status: 413 },
    { name: 'an oversized chunked body', path: '/main', init: { method: 'PATCH', headers: { 'content-type': 'application/json' }, body: chunked(40_000) }, status: 413 },
    { name: 'a bad page limit', path: '?limit=1000', init: {}, status: 400 },
    { name: 'a SQL-looking cursor', path: `?cursor=${encodeURIComponent("' OR 1=1 --")}`, init: {}, status: 400 },
    { name: 'a token for too long', path: '/main/playback-tokens', init: { method: 'POST', json: { ttlSeconds: 99_999_999 } }, status: 400 },
    { name: 'an import with a bad hash', path: '/import', init: { method: 'POST', json: { streams: [{ name: 'evil', playbackId: 'x', keySha256: "'; --", createdAt: '2026-01-01T00:00:00Z', keyRotatedAt: '2026-01-01T00:00:00Z' }] } }, status: 400 },
  ];

  it.each(hostile)('refuses $name with $status, changing nothing', async ({ path, init, status }) => {
    expect((await api('', { method: 'POST', json: { name: 'main', playback: 'signed' } })).status).toBe(201);
    const before = await snapshot();
    const response = await api(path, init);
    expect(response.status).toBe(status);
    expect(response.body).toEqual({ error: expect.any(String) });
    expect(response.headers.get('cache-control')).toMatch(/no-store/);
    expect(await snapshot()).toEqual(before);
  });
});

/** A JSON body of `size` bytes sent without Content-Length. */
function chunked(size: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(`{"retention":"${'x'.repeat(size)}"}`);
  return new ReadableStream({
    start(controller) {
      for (let offset = 0; offset < bytes.length; offset += 4096) controller.enqueue(bytes.subarray(offset, offset + 4096));
      controller.close();
    },
  });
}
