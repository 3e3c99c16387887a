/**
 * The sidecar under a bounded RTMP attack: hundreds of hostile connections of every kind
 * (random bytes, truncated handshakes, slow-loris, huge and numerous chunk streams, bad chunk
 * sizes, bogus commands, publish without connect, long names, play, media before publish), in
 * waves from many loopback addresses, more at once than it admits. Its memory must stay
 * bounded, every hostile connection must be closed by it, each refusal logged once with its
 * reason and counted, and a real ffmpeg publisher arriving mid-attack must get in and keep
 * producing segments; RTMPS goes through the same gate.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { connect as connectTcp } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StreamStore } from '../../ingest/streams/stream-store.ts';
import { RssSampler } from '../../scripts/bench/measure.ts';
import { HOSTILE_KINDS, runHostileConnection } from '../../scripts/lib/hostile-rtmp.ts';
import { runHostileWaves, type KindTally } from '../../scripts/lib/hostile-waves.ts';
import { clientHandshake } from '../../scripts/lib/rtmp-wire.ts';
import { SegmentWatch } from '../../scripts/lib/segment-watch.ts';
import { eventually, freePort } from '../helpers/network.ts';
import { startTestPlatform, type Platform } from '../helpers/platform.ts';
import { publishTestPattern, type TestPublisher } from '../helpers/publisher.ts';

const ADMIN_TOKEN = randomBytes(16).toString('hex');
const HANDSHAKE_TIMEOUT_S = 2;
const PUBLISH_TIMEOUT_S = 4;
const MAX_CONNECTIONS = 100;
const RSS_LIMIT = 300 * 1024 * 1024;

interface LogEntry {
  msg?: string;
  reason?: string;
  remote?: string;
  connection?: number;
}

describe('the sidecar under a hostile RTMP attack', () => {
  let dir: string;
  let platform: Platform | undefined;
  let rtmpPort: number;
  let rtmpsPort: number;
  let apiUrl: string;
  let mainKey: string;
  let tlsKey: string;
  let lateKey: string;
  let segments: SegmentWatch;
  let tlsSegments: SegmentWatch;
  let lateSegments: SegmentWatch;
  let rss: RssSampler;
  let restingRss: number;
  const publishers: TestPublisher[] = [];
  /** The sidecar's JSON log. */
  const ingestLines = () => platform?.linesOf('ingest') ?? [];
  const entries = () => ingestLines().map((line) => { try { return JSON.parse(line) as LogEntry; } catch { return {} as LogEntry; } });
  const refusals = () => entries().filter((entry) => entry.msg?.startsWith('RTMP connection refused'));
  const metrics = async () => {
    const response = await fetch(new URL('/metrics', apiUrl), { headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, signal: AbortSignal.timeout(5000) });
    return parsePrometheusTextFormat(await response.text());
  };
  const metricValue = (families: ReturnType<typeof parsePrometheusTextFormat>, name: string, labels: Record<string, string> = {}) =>
    Number(families.find((family) => family.name === name)?.metrics.find((sample) => Object.entries(labels).every(([key, value]) => sample.labels?.[key] === value))?.value ?? Number.NaN);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-hostile-'));
    const store = new StreamStore(join(dir, 'streams.json'));
    const main = store.add('main');
    const tls = store.add('tls');
    const late = store.add('late');
    mainKey = main.key;
    tlsKey = tls.key;
    lateKey = late.key;
    const openssl = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]);
    if (openssl.status !== 0) throw new Error(`openssl: ${openssl.stderr}`);
    rtmpsPort = await freePort();
    platform = await startTestPlatform('e2e-hostile-rtmp', {
      edge: 'none',
      dir,
      ingest: {
        streamsFile: join(dir, 'streams.json'),
        reconnectWindow: 0,
        api: true,
        args: [
          '--storage', 'fs', '--storage-dir', join(dir, 'media'),
          '--ladder', 'none',
          '--rtmps-port', String(rtmpsPort), '--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem'),
          '--rtmp-handshake-timeout', String(HANDSHAKE_TIMEOUT_S),
          '--rtmp-publish-timeout', String(PUBLISH_TIMEOUT_S),
          '--rtmp-max-connections', String(MAX_CONNECTIONS),
        ],
        env: { ADMIN_TOKEN },
      },
    });
    rtmpPort = platform.ports.rtmp;
    apiUrl = platform.apiUrl;
    rss = new RssSampler(platform.ingest!.pid!);
    await new Promise((resolve) => setTimeout(resolve, 500));
    restingRss = rss.last;
    segments = new SegmentWatch(join(dir, 'media', 'streams', main.stream.playbackId, 'source', 'index.m3u8'));
    tlsSegments = new SegmentWatch(join(dir, 'media', 'streams', tls.stream.playbackId, 'source', 'index.m3u8'));
    lateSegments = new SegmentWatch(join(dir, 'media', 'streams', late.stream.playbackId, 'source', 'index.m3u8'));
  });

  afterAll(async () => {
    rss?.stop();
    segments?.stop();
    tlsSegments?.stop();
    lateSegments?.stop();
    await Promise.all(publishers.map((publisher) => publisher.stop()));
    await platform?.stop();
  });

  let tally: Record<string, KindTally>;
  let attackStarted: number;

  it('closes every hostile connection with memory bounded, and lets a publisher in mid-attack', async () => {
    attackStarted = performance.now();
    const attack = runHostileWaves({
      host: '127.0.0.1',
      port: rtmpPort,
      connections: HOSTILE_KINDS.length * 20,
      waveSize: 120,
      // More at once than the sidecar admits: the oldest idle ones make room.
      maxInFlight: 150,
      giveUpMs: (PUBLISH_TIMEOUT_S + 6) * 1000,
      sources: 40,
      floodEvery: 8,
    });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const publisher = publishTestPattern(`rtmp://127.0.0.1:${rtmpPort}/live/${mainKey}`, 40);
    publishers.push(publisher);
    tally = await attack;
    const attackEnded = performance.now();
    platform!.lines.push(`[test] sidecar RSS at rest ${restingRss} bytes, peak during the attack ${rss.peak} bytes`);

    expect(platform!.ingest!.hasExited).toBe(false);
    for (const [kind, entry] of Object.entries(tally)) {
      expect(entry.held, `${kind} held open`).toBe(0);
      expect(entry.closedByServer + entry.connectFailed, kind).toBe(entry.started);
      // Nothing outlives the publish deadline by much (the gate's clocks, not our give-up).
      expect(entry.slowestMs, kind).toBeLessThan((PUBLISH_TIMEOUT_S + 3) * 1000);
    }
    expect(rss.peak, `peak RSS ${rss.peak} (at rest ${restingRss})`).toBeLessThan(RSS_LIMIT);

    // The publisher that came in mid-attack produces segments, during and after it.
    await eventually('segments of the stream published mid-attack', 20_000, async () => (segments.segments >= 4 ? true : undefined));
    expect(segments.longestGapMs(attackEnded)).toBeLessThan(6000);
    expect(publisher.process.exitCode).toBeNull();
    expect(performance.now() - attackStarted).toBeLessThan(45_000);
  });

  it('logs each refusal once, with its reason and without stream names, and counts them by reason', async () => {
    const byReason = new Map<string, number>();
    for (const refusal of refusals()) byReason.set(refusal.reason!, (byReason.get(refusal.reason!) ?? 0) + 1);
    for (const reason of [
      'bad-handshake', 'handshake-timeout', 'publish-timeout', 'message-too-large', 'chunk-stream-limit', 'chunk-size',
      'malformed-message', 'media-before-publish', 'play-refused', 'per-ip-limit',
    ]) {
      expect(byReason.get(reason), `${reason} in ${JSON.stringify([...byReason])}`).toBeGreaterThan(0);
    }
    // Wrong keys, long names, publish without connect: refused by the stream registry.
    expect(entries().filter((entry) => entry.msg?.startsWith('publish refused')).length).toBeGreaterThanOrEqual(3 * 20 - 10);
    // Once per connection (by its number: a peer's port is reused by later connections).
    const connections = refusals().map((refusal) => refusal.connection);
    expect(connections.every((connection) => typeof connection === 'number')).toBe(true);
    expect(new Set(connections).size).toBe(connections.length);
    const text = ingestLines().join('\n');
    expect(text).not.toContain(mainKey);
    expect(text).not.toContain('a'.repeat(100));

    const families = await metrics();
    for (const [reason, count] of byReason) {
      expect(metricValue(families, 'ingest_rtmp_connections_refused_total', { reason })).toBe(count);
    }
  });

  it('has given back every hostile connection and its buffers', async () => {
    await eventually('only the publisher left open', 10_000, async () => {
      const families = await metrics();
      return metricValue(families, 'ingest_rtmp_connections') === 1 ? families : undefined;
    }).then((families) => {
      // The publisher's message buffers only (its largest frame and its commands).
      expect(metricValue(families, 'ingest_rtmp_parser_buffer_bytes')).toBeLessThan(2 * 1024 * 1024);
    });
  });

  it('lets a publisher in when idle connections fill every place (the oldest idle one makes room)', async () => {
    const evictedBefore = refusals().filter((refusal) => refusal.reason === 'evicted').length;
    const open = metricValue(await metrics(), 'ingest_rtmp_connections');
    // From ten addresses (at most ten each, the per-address limit), every place left is taken.
    const idle = Array.from({ length: MAX_CONNECTIONS - open }, (_, index) =>
      runHostileConnection('silent-after-handshake', { host: '127.0.0.1', port: rtmpPort, localAddress: `127.0.2.${1 + (index % 10)}` }, (PUBLISH_TIMEOUT_S + 6) * 1000),
    );
    await eventually('every place taken', 5000, async () => {
      const families = await metrics();
      return metricValue(families, 'ingest_rtmp_connections') === MAX_CONNECTIONS ? true : undefined;
    });
    const publisher = publishTestPattern(`rtmp://127.0.0.1:${rtmpPort}/live/${lateKey}`, 8);
    publishers.push(publisher);
    await eventually('segments of the late publisher', 20_000, async () => (lateSegments.segments >= 2 ? true : undefined));
    expect(refusals().filter((refusal) => refusal.reason === 'evicted').length).toBeGreaterThan(evictedBefore);
    for (const outcome of await Promise.all(idle)) expect(outcome.closedByServer).toBe(true);
  });

  it('guards RTMPS the same way, and publishes over it', async () => {
    const tlsOptions = { host: '127.0.0.1', port: rtmpsPort, rejectUnauthorized: false };
    const closedAfter = (open: (done: () => void) => void) =>
      new Promise<number>((resolve) => {
        const started = performance.now();
        open(() => resolve(performance.now() - started));
      });
    // No TLS handshake at all: the handshake clock covers TLS.
    const silentTcp = closedAfter((done) => {
      const socket = connectTcp({ host: '127.0.0.1', port: rtmpsPort });
      socket.on('error', () => {});
      socket.once('close', done);
    });
    // TLS and the RTMP handshake, then nothing: the publish clock, through the TLS socket.
    const silentRtmp = closedAfter((done) => {
      const socket = connectTls(tlsOptions, () => socket.write(clientHandshake()));
      socket.on('data', () => {});
      socket.on('error', () => {});
      socket.once('close', done);
    });
    const publisher = publishTestPattern(`rtmps://127.0.0.1:${rtmpsPort}/live/${tlsKey}`, 8);
    publishers.push(publisher);
    expect(await silentTcp).toBeGreaterThan(HANDSHAKE_TIMEOUT_S * 1000 - 200);
    expect(await silentTcp).toBeLessThan(HANDSHAKE_TIMEOUT_S * 1000 + 2000);
    expect(await silentRtmp).toBeGreaterThan(PUBLISH_TIMEOUT_S * 1000 - 200);
    expect(await silentRtmp).toBeLessThan(PUBLISH_TIMEOUT_S * 1000 + 2000);
    await eventually('segments over RTMPS', 20_000, async () => (tlsSegments.segments >= 2 ? true : undefined));
  });
});
