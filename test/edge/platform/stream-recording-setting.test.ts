/** A stream's `recording` setting in the registry and the management API (migration 0006). */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { errorResponse } from '../../../edge/errors.ts';
import { SqliteClient } from '../../../edge/platform/sqlite-client.ts';
import { SqlStreamRegistry } from '../../../edge/platform/stream-registry.ts';
import { managementApiRoutes } from '../../../edge/routes/management-api.ts';
import { PROJECT_ROOT } from '../../../scripts/lib/local-platform.ts';

const ADMIN = 'admin-token-recording-setting';

function api() {
  const client = new SqliteClient(new DatabaseSync(':memory:'));
  const dir = join(PROJECT_ROOT, 'migrations');
  client.migrate(readdirSync(dir).filter((name) => name.endsWith('.sql')).map((name) => ({ name, sql: readFileSync(join(dir, name), 'utf8') })));
  const registry = new SqlStreamRegistry(client);
  const app = new Hono();
  app.route('/api/v1/streams', managementApiRoutes({ registry, adminToken: ADMIN, playbackSecret: undefined }));
  app.onError(errorResponse);
  const call = async (method: string, path: string, body?: unknown) => {
    const response = await app.request(`/api/v1/streams${path}`, { method, headers: { authorization: `Bearer ${ADMIN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as { stream?: { recording: unknown; recordingDays: unknown }; error?: string } };
  };
  return { call, registry };
}

describe("a stream's recording setting", () => {
  it('is null (from its retention) unless set; true, false and null again through the API, stored in the registry', async () => {
    const { call, registry } = api();
    expect((await call('POST', '', { name: 'plain' })).body.stream?.recording).toBeNull();
    expect((await call('POST', '', { name: 'studio', recording: true })).body.stream?.recording).toBe(true);
    expect((await registry.get('studio'))?.recording).toBe(true);
    expect((await call('PATCH', '/studio', { recording: false })).body.stream?.recording).toBe(false);
    expect((await registry.get('studio'))?.recording).toBe(false);
    expect((await call('PATCH', '/studio', { recording: null })).body.stream?.recording).toBeNull();
    expect((await registry.get('studio'))?.recording).toBeUndefined();
  });

  it('refuses anything but true, false or null, saying so, and changes nothing', async () => {
    const { call, registry } = api();
    await call('POST', '', { name: 'studio', recording: true });
    const refused = await call('PATCH', '/studio', { recording: 'yes' });
    expect(refused).toEqual({ status: 400, body: { error: 'recording must be true, false or null (when its retention is "all")' } });
    expect((await registry.get('studio'))?.recording).toBe(true);
  });

  it('recordingDays: the days its recordings are kept, over the sidecar\'s --recording-days; null goes back to it', async () => {
    const { call, registry } = api();
    expect((await call('POST', '', { name: 'studio' })).body.stream?.recordingDays).toBeNull();
    expect((await call('PATCH', '/studio', { recordingDays: 90 })).body.stream?.recordingDays).toBe(90);
    expect((await registry.get('studio'))?.recordingDays).toBe(90);
    expect((await call('PATCH', '/studio', { recordingDays: 0 })).body.stream?.recordingDays).toBe(0);
    for (const bad of [-1, 1.5, 36_501, '30']) expect((await call('PATCH', '/studio', { recordingDays: bad })).status, String(bad)).toBe(400);
    expect((await registry.get('studio'))?.recordingDays).toBe(0);
    expect((await call('PATCH', '/studio', { recordingDays: null })).body.stream?.recordingDays).toBeNull();
  });
});
