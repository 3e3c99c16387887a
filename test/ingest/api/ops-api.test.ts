import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { EVENT_LOOP_SAMPLE_MS, IngestMetrics } from '../../../ingest/api/metrics.ts';
import { createOpsApi } from '../../../ingest/api/ops-api.ts';
import { StreamRegistry } from '../../../ingest/pipeline/stream-registry.ts';
import { PublishAccess } from '../../../ingest/streams/publish-access.ts';
import { StreamStore } from '../../../ingest/streams/stream-store.ts';
import { DEFAULT_LADDER_CONFIG } from '../../../ingest/transcode/ladder.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import { verifyPlaybackToken } from '../../../shared/playback-token.ts';

const TOKEN = 'admin-token-for-tests';

function api(adminToken: string | undefined, playbackSecret?: string) {
  const metrics = new IngestMetrics();
  const registry = new StreamRegistry({
    settings: { ffmpegPath: 'ffmpeg', ladder: DEFAULT_LADDER_CONFIG, targetSegmentDuration: 2, chunkDuration: 0.333, windowSegments: 5, retention: 'window' as const, drainTimeoutMs: 1000, idleTimeoutMs: 10_000, reconnectWindowMs: 0, stallTimeoutMs: 10_000 },
    store: new MemoryObjectStore(),
    access: new PublishAccess('open', new StreamStore(join(mkdtempSync(join(tmpdir(), 'ops-')), 'streams.json'))),
    log: pino({ level: 'silent' }),
    metrics,
  });
  return { app: createOpsApi({ registry, metrics, adminToken, mode: () => 'open', playbackSecret }), metrics, registry };
}

const auth = { authorization: `Bearer ${TOKEN}` };

describe('operations API', () => {
  it('answers /healthz without a token', async () => {
    const response = await api(TOKEN).app.request('/healthz');
    expect(await response.json()).toEqual({ ok: true, mode: 'open', streamsLive: 0 });
  });

  it.each([
    { name: 'no token', headers: {}, status: 401 },
    { name: 'a wrong token', headers: { authorization: 'Bearer nope' }, status: 403 },
    { name: 'a token that is a prefix of the real one', headers: { authorization: `Bearer ${TOKEN.slice(0, 4)}` }, status: 403 },
  ])('refuses /streams with $name', async ({ headers, status }) => {
    const response = await api(TOKEN).app.request('/streams', { headers });
    expect(response.status).toBe(status);
    expect(await response.json()).toEqual({ error: expect.any(String) });
  });

  it('is off, saying how to turn it on, without ADMIN_TOKEN', async () => {
    const response = await api(undefined).app.request('/metrics', { headers: auth });
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({ error: expect.stringMatching(/ADMIN_TOKEN/) });
  });

  it('lists live streams and 404s a disconnect of a stream that is not live', async () => {
    const { app } = api(TOKEN);
    expect(await (await app.request('/streams', { headers: auth })).json()).toEqual({ streams: [] });
    expect((await app.request('/streams/colors', { method: 'DELETE', headers: auth })).status).toBe(404);
    expect((await app.request('/streams/..%2Fx', { method: 'DELETE', headers: auth })).status).toBe(400);
  });

  it('mints playback tokens for a playback id, with a bounded lifetime', async () => {
    const { app } = api(TOKEN, 'api-playback-secret');
    const mint = (id: string, body: unknown) => app.request(`/streams/${id}/playback-tokens`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const response = await mint('colors', { ttlSeconds: 120 });
    expect(response.status).toBe(201);
    const { token, expiresAt } = (await response.json()) as { token: string; expiresAt: string };
    expect(await verifyPlaybackToken('api-playback-secret', token, 'colors', Date.now())).toMatchObject({ ok: true });
    expect(Date.parse(expiresAt) - Date.now()).toBeLessThanOrEqual(121_000);
    expect((await mint('colors', { ttlSeconds: 10 ** 9 })).status).toBe(400);
    expect((await mint('..%2Fx', {})).status).toBe(400);
    expect((await app.request('/streams/colors/playback-tokens', { method: 'POST' })).status).toBe(401);
    const unset = await api(TOKEN).app.request('/streams/colors/playback-tokens', { method: 'POST', headers: auth });
    expect(unset.status).toBe(503);
    expect(await unset.json()).toEqual({ error: expect.stringContaining('PLAYBACK_SECRET') });
  });

  it('serves metrics that parse as Prometheus text', async () => {
    const { app, metrics } = api(TOKEN);
    metrics.bytesIn.inc(1234);
    metrics.uploadSeconds.observe({ object: 'segment' }, 0.02);
    const response = await app.request('/metrics', { headers: auth });
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const families = parsePrometheusTextFormat(await response.text());
    const byName = new Map(families.map((family) => [family.name, family]));
    expect(byName.get('ingest_bytes_in_total')?.metrics[0]?.value).toBe('1234');
    expect(byName.get('ingest_upload_duration_seconds')?.type).toBe('HISTOGRAM');
    for (const name of ['ingest_streams_live', 'ingest_segments_stored_total', 'ingest_ffmpeg_restarts_total', 'ingest_encode_speed_ratio']) {
      expect(byName.has(name), name).toBe(true);
    }
  });

  it('shows a blocked event loop in its lag metrics, sampled 10 times a second rather than 100', async () => {
    const { app } = api(TOKEN);
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    await pause(3 * EVENT_LOOP_SAMPLE_MS);
    // The loop held for 0.3 s, as a sidecar overloaded by its streams would.
    const until = performance.now() + 300;
    while (performance.now() < until);
    await pause(3 * EVENT_LOOP_SAMPLE_MS);
    const families = parsePrometheusTextFormat(await (await app.request('/metrics', { headers: auth })).text());
    const value = (name: string) => Number(families.find((family) => family.name === name)?.metrics[0]?.value);
    expect(EVENT_LOOP_SAMPLE_MS).toBe(100);
    expect(value('nodejs_eventloop_lag_max_seconds')).toBeGreaterThanOrEqual(0.2);
    expect(value('nodejs_eventloop_lag_min_seconds')).toBeLessThan(0.2);
  });

  // A 720p source gets passthrough 720p + encoded 480p and 360p: three video renditions of the
  // same frames. Fed in real time by ffmpeg, as a publisher would.
  it.each([{ fps: 30 }, { fps: 25 }])('reports a $fps fps source as $fps fps, and encode speed about 1, whatever the ladder', async ({ fps }) => {
    const { app, registry } = api(TOKEN);
    const decision = await registry.decide({ app: 'live', name: 'rate', query: {}, remoteAddress: '127.0.0.1:5000' });
    if (!('accept' in decision)) throw new Error(decision.reject);
    const publisher = spawn('ffmpeg', [
      '-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', `testsrc2=size=1280x720:rate=${fps}`, '-t', '9',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-g', String(2 * fps), '-f', 'flv', 'pipe:1',
    ], { stdio: ['ignore', 'pipe', 'inherit'] });
    const handler = decision.accept({ disconnect: () => publisher.kill(), resubscribe: () => {} });
    publisher.stdout.on('data', (flv: Buffer) => handler.onData(flv));
    try {
      await new Promise((resolve) => setTimeout(resolve, 8_000));
      const { streams } = (await (await app.request('/streams', { headers: auth })).json()) as {
        streams: { renditions: { kind: string }[]; input: { framesPerSecond: number }; encodeSpeed: number }[];
      };
      expect(streams[0]!.renditions.filter((rendition) => rendition.kind === 'video').length).toBeGreaterThanOrEqual(3);
      // The first second goes to probing the source and starting ffmpeg: a little under the rate.
      expect(streams[0]!.input.framesPerSecond).toBeGreaterThan(fps * 0.6);
      expect(streams[0]!.input.framesPerSecond).toBeLessThan(fps * 1.2);
      expect(streams[0]!.encodeSpeed).toBeGreaterThan(0.6);
      expect(streams[0]!.encodeSpeed).toBeLessThan(1.2);
    } finally {
      publisher.kill();
      handler.onEnd();
      await registry.close();
    }
  }, 30_000);
});
