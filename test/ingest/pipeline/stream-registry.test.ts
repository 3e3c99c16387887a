import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { IngestMetrics } from '../../../ingest/api/metrics.ts';
import { LiveJournal } from '../../../ingest/pipeline/live-journal.ts';
import { StreamRegistry } from '../../../ingest/pipeline/stream-registry.ts';
import type { PublishRequest } from '../../../ingest/rtmp/rtmp-server.ts';
import { PublishAccess } from '../../../ingest/streams/publish-access.ts';
import { StreamStore } from '../../../ingest/streams/stream-store.ts';
import { DEFAULT_LADDER_CONFIG } from '../../../ingest/transcode/ladder.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';

function registry(mode: 'open' | 'keyed') {
  const streams = new StreamStore(join(mkdtempSync(join(tmpdir(), 'registry-')), 'streams.json'));
  // Open mode lasts only while no stream is configured.
  const key = mode === 'keyed' ? streams.add('main').key : '';
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
  const store = new MemoryObjectStore();
  const metrics = new IngestMetrics();
  const settings = { ffmpegPath: 'ffmpeg', ladder: DEFAULT_LADDER_CONFIG, targetSegmentDuration: 2, chunkDuration: 0.333, windowSegments: 5, retention: 'window' as const, drainTimeoutMs: 1000, idleTimeoutMs: 10_000, reconnectWindowMs: 0, stallTimeoutMs: 10_000 };
  return { registry: new StreamRegistry({ settings, store, access: new PublishAccess(mode, streams), log, metrics }), key, lines, store, metrics, streams };
}

const request = (overrides: Partial<PublishRequest>): PublishRequest => ({ app: 'live', name: 'colors', query: {}, remoteAddress: '127.0.0.1:5000', ...overrides });

describe('stream registry: who may publish', () => {
  it.each([
    { name: 'names node-media-server refused (dots, slashes, %00, unicode)', input: request({ app: '', name: '' }), reason: /characters other than/ },
    { name: 'an unknown application', input: request({ app: 'admin' }), reason: /unknown application/ },
    { name: 'a query with dots and slashes', input: request({ query: { x: '../../etc' } }), reason: /query string/ },
    { name: 'a query with a NUL', input: request({ query: { x: 'a\u0000b' } }), reason: /query string/ },
    { name: 'a 10 kB query', input: request({ query: { x: 'a'.repeat(10_000) } }), reason: /query string/ },
    { name: 'a 10 kB name', input: request({ name: 'a'.repeat(10_000) }), reason: /1-64/ },
  ])('refuses $name, logging why, storing nothing', ({ input, reason }) => {
    const { registry: streams, lines, store } = registry('open');
    const decision = streams.decide(input);
    expect(decision).toEqual({ reject: expect.stringMatching(reason) });
    expect(lines.join('')).toMatch(/publish refused/);
    expect(store.objects.size).toBe(0);
  });

  it('refuses a wrong key without ever logging what was presented', async () => {
    const { registry: streams, lines, key, metrics } = registry('keyed');
    const wrong = key.slice(0, -2) + 'xx';
    expect(streams.decide(request({ name: wrong }))).toEqual({ reject: 'unknown stream key' });
    expect(lines.join('')).not.toContain(wrong);
    expect(lines.join('')).not.toContain(key);
    expect(await metrics.registry.getSingleMetricAsString('ingest_publishes_refused_total')).toContain('reason="unknown-key"} 1');
  });

  it('disconnects a live publisher once its key is rotated, and lets the new key take the stream up', async () => {
    const { registry: live, key, streams, lines } = registry('keyed');
    let disconnects = 0;
    // As the RTMP server does: a disconnect closes the socket, which ends the publish.
    const control = { disconnect: () => ((disconnects += 1), handler.onEnd()), resubscribe: () => {} };
    const decision = await live.decide(request({ name: key }));
    if (!('accept' in decision)) throw new Error(decision.reject);
    const handler = decision.accept(control);
    live.checkCredentials();
    expect(disconnects).toBe(0);
    const { key: newKey } = streams.rotateKey('main');
    live.checkCredentials();
    expect(disconnects).toBe(1);
    expect(lines.join('')).toMatch(/key was rotated/);
    expect(lines.join('')).not.toContain(key);
    // The old key no longer publishes; the new one does, once the old session has closed.
    expect(live.decide(request({ name: key }))).toEqual({ reject: 'unknown stream key' });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(live.decide(request({ name: newKey }))).toEqual({ accept: expect.any(Function) });
    await live.close();
  });
});

describe('stream registry: a reconnecting stream takes only its own credential', () => {
  function withJournal(entries: object[]) {
    const dir = mkdtempSync(join(tmpdir(), 'registry-journal-'));
    writeFileSync(join(dir, 'live-streams.json'), JSON.stringify(entries));
    const streams = new StreamStore(join(dir, 'streams.json'));
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const settings = { ffmpegPath: 'ffmpeg', ladder: DEFAULT_LADDER_CONFIG, targetSegmentDuration: 2, chunkDuration: 0.333, windowSegments: 5, retention: 'window' as const, drainTimeoutMs: 1000, idleTimeoutMs: 10_000, reconnectWindowMs: 60_000, stallTimeoutMs: 10_000 };
    const journal = new LiveJournal(join(dir, 'live-streams.json'));
    const registry = new StreamRegistry({ settings, store: new MemoryObjectStore(), access: new PublishAccess('open', streams), log, metrics: new IngestMetrics(), journal });
    return { registry, lines, journal, streams };
  }

  it.each([
    { name: 'recorded as keyed', entry: { playbackId: 'k3x9vipstream', name: 'vip', since: new Date().toISOString(), keyed: true } },
    { name: 'recorded as signed before keyed was recorded', entry: { playbackId: 'k3x9vipstream', name: 'vip', since: new Date().toISOString(), playback: 'signed' } },
  ])('refuses a keyless name equal to a keyed stream it took up after a crash ($name), even in open mode', async ({ entry }) => {
    // The stream was removed from the store meanwhile, so open mode is on: the stream itself must refuse.
    const { registry, lines } = withJournal([entry]);
    expect(registry.resumeAfterRestart()).toBe(1);
    expect(registry.decide(request({ name: 'k3x9vipstream' }))).toEqual({ reject: 'stream "k3x9vipstream" publishes only with its stream key' });
    expect(lines.join('')).toMatch(/publish refused/);
    await registry.close();
  });

  it('lets an open stream it took up after a crash continue under its name', async () => {
    const { registry, journal } = withJournal([{ playbackId: 'colors', name: 'colors', since: new Date().toISOString(), keyed: false }]);
    registry.resumeAfterRestart();
    expect(registry.decide(request({ name: 'colors' }))).toEqual({ accept: expect.any(Function) });
    expect(journal.list()[0]).toMatchObject({ playbackId: 'colors', keyed: false });
    await registry.close();
  });
});
