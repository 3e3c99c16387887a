/**
 * A second sidecar started in the same folder (as a user following the "port in use" hint does:
 * `npm run ingest -- --rtmp-port 1937 --api-port 0` beside `npm start`) must not take up the
 * first one's live stream as if it had crashed, and end it. It says whose the folder is and
 * exits; once the first is gone (even killed), a new sidecar takes the folder and its streams up.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIngest } from '../../scripts/lib/local-platform.ts';
import type { ManagedProcess } from '../../scripts/lib/managed-process.ts';
import { eventually, freePort, within } from '../helpers/network.ts';
import { publishTestPattern, type TestPublisher } from '../helpers/publisher.ts';
import { saveTestLog } from '../helpers/test-log.ts';

describe('one state directory, one sidecar', () => {
  let dir: string;
  let first: ManagedProcess | undefined;
  let third: ManagedProcess | undefined;
  let publisher: TestPublisher | undefined;
  const lines: string[] = [];
  const sidecar = (name: string, rtmpPort: number) =>
    startIngest({
      rtmpPort,
      stateDir: join(dir, 'state'),
      extraArgs: ['--open', '--streams-file', join(dir, 'none.json'), '--storage', 'fs', '--storage-dir', join(dir, 'media'), '--ladder', 'none', '--reconnect-window', '20'],
      env: { LOG_FORMAT: 'json' },
      onLine: (line) => lines.push(`[${name}] ${line}`),
    });
  const status = () => {
    try {
      return (JSON.parse(readFileSync(join(dir, 'media', 'streams', 'shared', 'status.json'), 'utf8')) as { state: string }).state;
    } catch {
      return undefined;
    }
  };
  const journal = () => readFileSync(join(dir, 'state', 'live-streams.json'), 'utf8');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-state-'));
    const rtmpPort = await freePort();
    first = await sidecar('first', rtmpPort);
    publisher = publishTestPattern(`rtmp://127.0.0.1:${rtmpPort}/live/shared`, 60);
    await eventually('the first sidecar\'s stream to be live', 30_000, async () => (status() === 'live' ? true : undefined));
  });

  afterAll(async () => {
    await publisher?.stop();
    await first?.stop();
    await third?.stop();
    rmSync(dir, { recursive: true, force: true });
    saveTestLog('e2e-state-dir', lines);
  });

  it('refuses a second sidecar on the same folder, which leaves the first one\'s live stream alone', async () => {
    await expect(sidecar('second', await freePort())).rejects.toThrow(/exited before/);
    const refusal = lines.filter((line) => line.startsWith('[second]')).join('\n');
    expect(refusal).toMatch(/belongs to another sidecar \(pid \d+\).*--state-dir/);
    expect(refusal).not.toMatch(/waiting for its publisher/);
    // The first one's stream is as it was: live, in its journal, and its playlist not ended.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    expect(status()).toBe('live');
    expect(journal()).toContain('"shared"');
    expect(readFileSync(join(dir, 'media', 'streams', 'shared', 'source', 'index.m3u8'), 'utf8')).not.toContain('#EXT-X-ENDLIST');
  });

  it('is taken over by the next sidecar once the first was killed, which takes its stream up', async () => {
    await publisher?.stop();
    first!.signal('SIGKILL');
    await within('the first sidecar to die', 10_000, first!.exited);
    first = undefined;
    third = await sidecar('third', await freePort());
    await eventually('the third sidecar to take the stream up', 15_000, async () =>
      lines.some((line) => line.startsWith('[third]') && line.includes('waiting for its publisher')) ? true : undefined,
    );
    await eventually('the taken-up stream to say it waits for its publisher', 15_000, async () => (status() === 'reconnecting' ? true : undefined));
  });
});
