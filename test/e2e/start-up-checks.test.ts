/**
 * A sidecar whose INGEST_SECRET the edge does not take would accept publishers and store
 * nothing (publish:test exited 0 while the sidecar logged a stack per write). It refuses to
 * start instead, in one line that says what to do.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIngest, startNodeEdge } from '../../scripts/lib/local-platform.ts';
import type { ManagedProcess } from '../../scripts/lib/managed-process.ts';
import { freePort } from '../helpers/network.ts';
import { saveTestLog } from '../helpers/test-log.ts';

describe('sidecar start-up checks against its edge', () => {
  let dir: string;
  let edgeUrl: string;
  let edge: ManagedProcess | undefined;
  const edgeSecret = randomBytes(16).toString('hex');
  const lines: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-start-checks-'));
    const edgePort = await freePort();
    edgeUrl = `http://127.0.0.1:${edgePort}`;
    edge = await startNodeEdge({ port: edgePort, storageDir: join(dir, 'media'), ingestSecret: edgeSecret, onLine: (line) => lines.push(`[edge:node] ${line}`) });
  });

  afterAll(async () => {
    await edge?.stop();
    rmSync(dir, { recursive: true, force: true });
    saveTestLog('e2e-start-up-checks', lines);
  });

  it('refuses to start, in one line without a stack, when the edge refuses its ingest secret', async () => {
    const wrongSecret = randomBytes(16).toString('hex');
    const before = lines.length;
    await expect(
      startIngest({
        rtmpPort: await freePort(),
        edgeUrl,
        ingestSecret: wrongSecret,
        stateDir: join(dir, 'state-wrong'),
        extraArgs: ['--open', '--streams-file', join(dir, 'none.json')],
        env: { LOG_FORMAT: 'json' },
        onLine: (line) => lines.push(`[ingest] ${line}`),
      }),
    ).rejects.toThrow(/exited before/);
    const output = lines.slice(before).filter((line) => line.startsWith('[ingest]'));
    const refusal = output.filter((line) => /refuses this sidecar's writes \(403/.test(line));
    expect(refusal).toHaveLength(1);
    expect(refusal[0]).toMatch(/INGEST_SECRET/);
    expect(output.join('\n')).not.toMatch(/\n\s+at /);
    expect(output.join('\n')).not.toContain('ingest ready');
    expect(output.join('\n')).not.toContain(wrongSecret);
  });

  it('starts with the edge\'s secret', async () => {
    const ingest = await startIngest({
      rtmpPort: await freePort(),
      edgeUrl,
      ingestSecret: edgeSecret,
      stateDir: join(dir, 'state-right'),
      extraArgs: ['--open', '--streams-file', join(dir, 'none.json')],
      env: { LOG_FORMAT: 'json' },
      onLine: (line) => lines.push(`[ingest] ${line}`),
    });
    await ingest.stop();
  });
});
