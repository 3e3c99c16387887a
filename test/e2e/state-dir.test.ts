/**
 * A second sidecar started in the same folder (as a user following the "port in use" hint does:
 * `npm run ingest -- --rtmp-port 1937 --api-port 0` beside `npm start`) must not take up the
 * first one's live stream as if it had crashed, and end it. It says whose the folder is and
 * exits; once the first is gone (even killed), a new sidecar takes the folder and its streams up.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManagedProcess } from '../../scripts/lib/managed-process.ts';
import { eventually, freePort, within } from '../helpers/network.ts';
import { startTestPlatform, type Platform } from '../helpers/platform.ts';
import { publishTestPattern, type TestPublisher } from '../helpers/publisher.ts';

describe('one state directory, one sidecar', () => {
  let dir: string;
  let platform: Platform | undefined;
  let first: ManagedProcess | undefined;
  let third: ManagedProcess | undefined;
  let publisher: TestPublisher | undefined;
  const lines: string[] = [];
  /** A sidecar in the platform's folder (its state directory the same for all), its lines tagged with its name. */
  const sidecar = (name: string, rtmpPort?: number) =>
    platform!.startIngest({ name, rtmpPort, reconnectWindow: 20, args: ['--storage', 'fs', '--storage-dir', join(dir, 'media'), '--ladder', 'none'] });
  const status = () => {
    try {
      return (JSON.parse(readFileSync(join(dir, 'media', 'streams', 'shared', 'status.json'), 'utf8')) as { state: string }).state;
    } catch {
      return undefined;
    }
  };
  const journal = () => readFileSync(join(dir, 'state', 'live-streams.json'), 'utf8');

  beforeAll(async () => {
    platform = await startTestPlatform('e2e-state-dir', { edge: 'none', lines, ingest: false });
    dir = platform.dir;
    first = await sidecar('first');
    publisher = publishTestPattern(platform.publishUrl('shared'), 60);
    await eventually('the first sidecar\'s stream to be live', 30_000, async () => (status() === 'live' ? true : undefined));
  });

  afterAll(async () => {
    await publisher?.stop();
    await platform?.stop();
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
