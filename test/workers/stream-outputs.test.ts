/// <reference types="@cloudflare/vitest-plugin/types" />
/**
 * Restream outputs in the management API (/api/v1/streams/NAME/outputs) in workerd with D1: the
 * target's key taken once and never answered again; at most 10 per stream; the sidecar's registry
 * lookup hands the outputs, keys included, with the stream's publish decision.
 */
import { applyD1Migrations, type D1Migration } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { beforeAll, describe, expect, it } from 'vitest';
import { D1Client } from '../../edge/platform/d1-client.ts';
import { SqlStreamRegistry } from '../../edge/platform/stream-registry.ts';
import { createWorkerApp, type Env } from '../../edge/worker.ts';
import { registryLookupToken } from '../../shared/registry-lookup.ts';

const bindings = env as unknown as Env & { TEST_MIGRATIONS: D1Migration[] };
const SECRET = 'stream-outputs-ingest-secret';
const ADMIN = 'stream-outputs-admin-token';
const HASH = 'e'.repeat(64);
const TARGET_KEY = 'live_123456_SuperSecretTargetKey';
const app = createWorkerApp({ ...bindings, INGEST_SECRET: SECRET, ADMIN_TOKEN: ADMIN });

const api = (path: string, init: { method?: string; body?: unknown; token?: string } = {}) =>
  app.request(`https://edge.example.com/api/v1/streams/${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${init.token ?? ADMIN}`, ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
const lookup = async () => {
  const response = await app.request('https://edge.example.com/_ingest/registry/lookup', {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await registryLookupToken(SECRET)}` },
    body: JSON.stringify({ keys: [HASH] }),
  });
  return ((await response.json()) as { streams: { outputs?: { id: string; url: string; key: string }[] }[] }).streams[0]!;
};

beforeAll(async () => {
  await applyD1Migrations(bindings.DB, bindings.TEST_MIGRATIONS);
  const at = new Date().toISOString();
  await new SqlStreamRegistry(new D1Client(bindings.DB)).create({ name: 'simulcast', playbackId: 'pbsimulcast', keySha256: HASH, playback: 'public', reconnectWindowSeconds: null, retention: null, enabled: true, createdAt: at, keyRotatedAt: at, updatedAt: at });
});

describe('restream outputs in the management API', () => {
  it('creates an output, never answers its key again, hands it to the sidecar, and deletes it', async () => {
    expect(await lookup()).not.toHaveProperty('outputs');
    const created = await api('simulcast/outputs', { method: 'POST', body: { url: 'rtmps://live.twitch.tv/app', key: TARGET_KEY } });
    expect(created.status).toBe(201);
    const text = await created.text();
    expect(text).not.toContain(TARGET_KEY);
    const { output } = JSON.parse(text) as { output: { id: string; url: string } };
    expect(output).toMatchObject({ id: expect.stringMatching(/^out_[0-9a-f]{8}$/), url: 'rtmps://live.twitch.tv/app/***' });

    const listed = await (await api('simulcast/outputs')).text();
    expect(JSON.parse(listed)).toEqual({ outputs: [{ id: output.id, url: 'rtmps://live.twitch.tv/app/***', createdAt: expect.any(String), state: 'idle', status: 'idle' }] });
    expect(listed).not.toContain(TARGET_KEY);
    expect(await (await api('simulcast')).text()).not.toContain(TARGET_KEY);

    expect((await lookup()).outputs).toEqual([{ id: output.id, url: 'rtmps://live.twitch.tv/app', key: TARGET_KEY }]);
    // D1 holds the key sealed under INGEST_SECRET, not as given.
    const { results } = await bindings.DB.prepare('SELECT stream_key, stream_key_sealed FROM stream_outputs WHERE id = ?').bind(output.id).all();
    expect(results).toEqual([{ stream_key: expect.not.stringContaining('SuperSecret'), stream_key_sealed: 1 }]);

    expect((await api(`simulcast/outputs/${output.id}`, { method: 'DELETE' })).status).toBe(200);
    expect((await api(`simulcast/outputs/${output.id}`, { method: 'DELETE' })).status).toBe(404);
    expect(await lookup()).not.toHaveProperty('outputs');
  });

  it('holds at most 10 outputs per stream', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const response = await api('simulcast/outputs', { method: 'POST', body: { url: 'rtmp://a.rtmp.youtube.com/live2', key: `key-${i}` } });
      expect(response.status).toBe(201);
      ids.push(((await response.json()) as { output: { id: string } }).output.id);
    }
    const eleventh = await api('simulcast/outputs', { method: 'POST', body: { url: 'rtmp://a.rtmp.youtube.com/live2', key: 'key-10' } });
    expect(eleventh.status).toBe(409);
    expect((await lookup()).outputs).toHaveLength(10);
    for (const id of ids) expect((await api(`simulcast/outputs/${id}`, { method: 'DELETE' })).status).toBe(200);
  });

  it.each([
    { name: 'an http URL', path: 'simulcast/outputs', body: { url: 'http://example.com/live', key: 'k' }, status: 400 },
    { name: 'credentials in the URL', path: 'simulcast/outputs', body: { url: 'rtmp://u:p@example.com/live', key: 'k' }, status: 400 },
    { name: 'no key', path: 'simulcast/outputs', body: { url: 'rtmp://example.com/live' }, status: 400 },
    { name: 'an unknown field', path: 'simulcast/outputs', body: { url: 'rtmp://example.com/live', key: 'k', enabled: true }, status: 400 },
    { name: 'an unknown stream', path: 'nope/outputs', body: { url: 'rtmp://example.com/live', key: 'k' }, status: 404 },
    { name: 'a wrong admin token', path: 'simulcast/outputs', body: { url: 'rtmp://example.com/live', key: 'k' }, status: 403, token: 'wrong' },
  ])('refuses $name with $status', async ({ path, body, status, token }) => {
    const response = await api(path, { method: 'POST', body, token });
    expect(response.status).toBe(status);
    expect(await response.json()).toEqual({ error: expect.any(String) });
  });
});

describe("restream output states reported by the stream's sidecar", () => {
  const report = async (body: unknown, token?: string) =>
    app.request('https://edge.example.com/_ingest/registry/outputs', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token ?? (await registryLookupToken(SECRET))}` },
      body: JSON.stringify(body),
    });

  it('shows each output as its sidecar last reported it, and idle once the stream ended', async () => {
    const created = (await (await api('simulcast/outputs', { method: 'POST', body: { url: 'rtmp://a.rtmp.youtube.com/live2', key: TARGET_KEY } })).json()) as { output: { id: string; state: string } };
    const second = (await (await api('simulcast/outputs', { method: 'POST', body: { url: 'rtmp://live.example.com/app', key: 'second-key' } })).json()) as { output: { id: string } };
    expect(created.output.state).toBe('idle');
    const views = async () => ((await (await api('simulcast/outputs')).json()) as { outputs: { id: string; state: string; status: string; reason?: string }[] }).outputs;

    expect((await report({ playbackId: 'pbsimulcast', outputs: [{ id: created.output.id, state: 'live' }, { id: second.output.id, state: 'retrying', reason: 'Connection refused' }] })).status).toBe(202);
    expect(await views()).toEqual([
      expect.objectContaining({ id: created.output.id, state: 'live', status: 'live', stateReportedAt: expect.any(String) }),
      expect.objectContaining({ id: second.output.id, state: 'retrying', status: 'retrying: Connection refused', reason: 'Connection refused' }),
    ]);

    // An output left out of a report is not running any more.
    expect((await report({ playbackId: 'pbsimulcast', outputs: [{ id: second.output.id, state: 'failed', reason: 'gave up after 8 attempts' }] })).status).toBe(202);
    expect((await views()).map((view) => view.status)).toEqual(['idle', 'failed: gave up after 8 attempts']);

    expect((await report({ playbackId: 'pbsimulcast', outputs: [] })).status).toBe(202);
    expect((await views()).map((view) => view.state)).toEqual(['idle', 'idle']);
    // Another stream's report changes nothing here.
    expect((await report({ playbackId: 'pbother', outputs: [{ id: created.output.id, state: 'live' }] })).status).toBe(202);
    expect((await views()).map((view) => view.state)).toEqual(['idle', 'idle']);

    for (const id of [created.output.id, second.output.id]) expect((await api(`simulcast/outputs/${id}`, { method: 'DELETE' })).status).toBe(200);
  });

  it.each([
    { name: 'with a wrong registry token', body: { playbackId: 'pbsimulcast', outputs: [] }, token: 'nope', status: 403 },
    { name: 'an unknown state', body: { playbackId: 'pbsimulcast', outputs: [{ id: 'out_00000000', state: 'paused' }] }, status: 400 },
    { name: 'a bad playback id', body: { playbackId: "x' OR 1=1 --", outputs: [] }, status: 400 },
    { name: 'not JSON', body: '{"playbackId": ', status: 400 },
  ])('refuses a report $name', async ({ body, token, status }) => {
    const response = await report(body, token);
    expect(response.status).toBe(status);
    expect(await response.text()).toMatch(/\S/);
  });
});
