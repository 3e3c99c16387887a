/**
 * A sidecar whose INGEST_SECRET the edge does not take would accept publishers and store
 * nothing (publish:test exited 0 while the sidecar logged a stack per write). It refuses to
 * start instead, in one line that says what to do.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type Platform } from '../helpers/platform.ts';

describe('sidecar start-up checks against its edge', () => {
  let platform: Platform | undefined;
  const edgeSecret = randomBytes(16).toString('hex');
  const lines: string[] = [];

  beforeAll(async () => {
    platform = await startTestPlatform('e2e-start-up-checks', { edge: 'node', lines, ingestSecret: edgeSecret, ingest: false });
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('refuses to start, in one line without a stack, when the edge refuses its ingest secret', async () => {
    const wrongSecret = randomBytes(16).toString('hex');
    const before = lines.length;
    await expect(platform!.startIngest({ ingestSecret: wrongSecret, stateDir: join(platform!.dir, 'state-wrong') })).rejects.toThrow(/exited before/);
    const output = lines.slice(before).filter((line) => line.startsWith('[ingest]'));
    const refusal = output.filter((line) => /refuses this sidecar's writes \(403/.test(line));
    expect(refusal).toHaveLength(1);
    expect(refusal[0]).toMatch(/INGEST_SECRET/);
    expect(output.join('\n')).not.toMatch(/\n\s+at /);
    expect(output.join('\n')).not.toContain('ingest ready');
    expect(output.join('\n')).not.toContain(wrongSecret);
  });

  it('starts with the edge\'s secret', async () => {
    const ingest = await platform!.startIngest({ stateDir: join(platform!.dir, 'state-right') });
    await ingest.stop();
  });
});
