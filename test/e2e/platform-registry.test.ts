/**
 * The stream registry as platform state (issue 16 items 1-2), over real RTMP with the edge under
 * wrangler dev (D1 migrated by startEdgeDev) and a sidecar that asks it (--stream-registry edge):
 * a stream created with `npm run streams` (the management API), its key accepted, a wrong key
 * refused with its reason, a rotation dropping the live publisher within 5 s, a disabled stream's
 * key refused. Stream keys never reach a log line.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../scripts/lib/local-platform.ts';
import { generateStreamKey } from '../../shared/stream-keys.ts';
import { eventually, within } from '../helpers/network.ts';
import { publishTestPattern } from '../helpers/publisher.ts';
import { startRegistryPlatform, type RegistryPlatform } from '../helpers/registry-platform.ts';
import { saveTestLog } from '../helpers/test-log.ts';

describe('the stream registry on the platform, over RTMP and wrangler dev', () => {
  let dir: string;
  let edgeUrl: string;
  let rtmpBase: string;
  let platform: RegistryPlatform | undefined;
  const lines: string[] = [];
  const ingestLines = () => lines.filter((line) => line.startsWith('[ingest]'));

  /** `npm run streams -- ARGS` against this platform's edge. */
  function streams(...args: string[]) {
    const result = spawnSync(process.execPath, [join(PROJECT_ROOT, 'ingest/streams/cli.ts'), '--json', ...args], {
      encoding: 'utf8',
      env: { ...process.env, EDGE_URL: edgeUrl, ADMIN_TOKEN: platform!.adminToken, STATE_DIR: join(dir, 'cli-state') },
    });
    lines.push(`$ streams ${args.join(' ')} (exit ${result.status})`, result.stderr);
    expect(result.status, result.stderr).toBe(0);
    return JSON.parse(result.stdout) as Record<string, string>;
  }

  const status = async (id: string) => {
    const response = await fetch(`${edgeUrl}/live/${id}/status.json`, { signal: AbortSignal.timeout(5000) });
    return response.ok ? ((await response.json()) as { state: string; renditions: unknown[] }) : undefined;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-registry-'));
    platform = await startRegistryPlatform({ dir, lines });
    ({ edgeUrl, rtmpBase } = platform);
  });

  afterAll(async () => {
    await platform?.stop();
    rmSync(dir, { recursive: true, force: true });
    saveTestLog('e2e-platform-registry', lines);
  });

  it('publishes with a key from the API, refuses a wrong key, drops the publisher within 5 s of a rotation, refuses a disabled stream', async () => {
    const { streamKey: key, playbackId } = streams('add', 'main');
    // The stream's own reconnect window, over the sidecar's --reconnect-window 0.
    const patched = await fetch(`${edgeUrl}/api/v1/streams/main`, { method: 'PATCH', headers: { authorization: `Bearer ${platform!.adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ reconnectWindowSeconds: 600 }) });
    expect(patched.status).toBe(200);

    // A wrong key: refused before any media, with the reason the publisher prints.
    const stranger = publishTestPattern(`${rtmpBase}/${generateStreamKey()}`, 4);
    expect(await within('the wrong-key publisher to be refused', 20_000, stranger.exited)).not.toBe(0);
    expect(stranger.stderr()).toContain('publish refused: unknown stream key');

    // The right key: live.
    const publisher = publishTestPattern(`${rtmpBase}/${key!}`, 120);
    await eventually('the stream to be live', 30_000, async () => ((await status(playbackId!))?.renditions.length ? true : undefined));
    expect(publisher.process.exitCode).toBeNull();

    // Rotation: the live publisher is dropped within 5 s.
    const rotated = streams('rotate-key', 'main');
    const rotatedAt = Date.now();
    await within('the publisher to be dropped after the rotation', 5_000, publisher.exited);
    const droppedAfterMs = Date.now() - rotatedAt;
    lines.push(`publisher dropped ${droppedAfterMs} ms after the rotation answered`);
    expect(droppedAfterMs).toBeLessThan(5_000);
    expect(ingestLines().some((line) => line.includes('stream key was rotated'))).toBe(true);
    // It waits for a publisher with a valid key for the registry's 600 s, not the sidecar's 0.
    await eventually('the stream to wait for its publisher', 10_000, async () => ((await status(playbackId!))?.state === 'reconnecting' ? true : undefined));

    // The old key is refused now; the new one publishes until the stream is disabled.
    const old = publishTestPattern(`${rtmpBase}/${key!}`, 4);
    await within('the old key to be refused', 20_000, old.exited);
    expect(old.stderr()).toContain('publish refused: unknown stream key');
    streams('disable', 'main');
    const disabled = publishTestPattern(`${rtmpBase}/${rotated.streamKey!}`, 4);
    await within('the disabled stream\'s key to be refused', 20_000, disabled.exited);
    expect(disabled.stderr()).toContain('publish refused: stream "main" is disabled');

    for (const secret of [key!, rotated.streamKey!]) expect(lines.join('\n')).not.toContain(secret);
  });
});
