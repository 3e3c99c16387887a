import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { checkStorageAccess, storageTroubleReporter } from '../../../ingest/upload/storage-trouble.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import { StorageHttpError } from '../../../shared/storage/storage-error.ts';

function capture() {
  const lines: { level: number; msg: string; err?: unknown }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { log, lines };
}

describe('storage trouble as the operator reads it', () => {
  it('reports a refused secret in one line with what to do, again only every half minute with a count, never with a stack', () => {
    const { log, lines } = capture();
    let clock = 0;
    const report = storageTroubleReporter({ log, storage: 'edge write API at http://127.0.0.1:8080', now: () => clock });
    const refusal = new StorageHttpError('PUT streams/x/status.json: 403 {"error":"wrong ingest secret or write token"}', 403);
    for (let write = 0; write < 21; write += 1) {
      report(refusal);
      clock += 400;
    }
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toMatch(/edge write API at http:\/\/127\.0\.0\.1:8080 refuses this sidecar's writes \(403.*INGEST_SECRET/);
    expect(lines[0]!.err).toBeUndefined();
    clock += 30_000;
    report(refusal);
    expect(lines).toHaveLength(2);
    expect(lines[1]!.msg).toMatch(/\(21 writes refused since the last report\)/);
  });

  it('logs other failures each with their error', () => {
    const { log, lines } = capture();
    const report = storageTroubleReporter({ log, storage: 'folder' });
    report(new StorageHttpError('503', 503));
    report(new Error('disk full'));
    expect(lines.map((line) => line.msg)).toEqual(['storing stream output failed', 'storing stream output failed']);
    expect(lines.every((line) => line.err !== undefined)).toBe(true);
  });

  it.each([
    { name: 'storage that takes the credentials', failure: undefined, expected: { ok: true } },
    { name: 'a refused secret', failure: new StorageHttpError('GET: 403 wrong ingest secret or write token', 403), expected: { ok: false, refused: expect.stringMatching(/refuses this sidecar's writes \(403/) } },
    { name: 'a missing credential', failure: new StorageHttpError('GET: 401 missing Authorization', 401), expected: { ok: false, refused: expect.stringMatching(/\(401/) } },
    { name: 'storage not answering yet', failure: new TypeError('fetch failed'), expected: { ok: false, unsure: expect.stringMatching(/could not check access.*fetch failed.*retry/) } },
    { name: 'storage in trouble', failure: new StorageHttpError('GET: 503', 503), expected: { ok: false, unsure: expect.stringMatching(/503/) } },
  ])('checks access at start: $name', async ({ failure, expected }) => {
    const store = new MemoryObjectStore();
    if (failure) store.get = () => Promise.reject(failure);
    expect(await checkStorageAccess(store, 'the store')).toEqual(expected);
  });
});
