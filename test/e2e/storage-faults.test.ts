/**
 * Storage faults on every write path, with a viewer watching: the edge (Deno, its bucket on a
 * real S3-compatible server) reaches its bucket through a loopback proxy, which for 10 s answers
 * every write with a 503 (storage down), then for 10 s delays every write by 700 ms (slow
 * storage), then passes again. Whatever writes (the edge storing a segment from its parts or a
 * document from the sidecar's live channel, or the write API taking the sidecar's HTTP fallback),
 * the bucket is what fails, as an outage of R2 fails the Durable Object's writes and the Worker's
 * alike. Then the edge itself (its in-process live state) is restarted mid-stream. No playlist
 * version may list a missing object or part; the stream must catch up afterwards, and hls.js,
 * playing all along in low-latency mode, must play on without a fatal error.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.ts';
import { startS3Server, type TestS3Server } from '../helpers/s3-server.ts';
import { parseM3u8 } from '../helpers/m3u8.ts';
import { eventually } from '../helpers/network.ts';
import { startTestPlatform, type Platform } from '../helpers/platform.ts';
import { watchPlaylists, type PlaylistChecker } from '../helpers/playlist-checker.ts';
import { openPlayerPage, waitForPlayheadPast, type PlayerPage } from '../helpers/players.ts';
import { publishTestPattern, type TestPublisher } from '../helpers/publisher.ts';

const FAULT_SECONDS = 10;

interface HintAnswer {
  uri: string;
  status: number;
  ms: number;
  body: string;
}

/** The blocking reload for the part after the playlist's newest (`?_HLS_msn=N&_HLS_part=M`). */
function nextPartQuery(text: string): string {
  const mediaSequence = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? 0);
  let segments = 0;
  let parts = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#EXT-X-PART:')) parts += 1;
    else if (line !== '' && !line.startsWith('#')) [segments, parts] = [segments + 1, 0];
  }
  return `?_HLS_msn=${mediaSequence + segments}&_HLS_part=${parts}`;
}

/**
 * Follows a rendition as a low-latency player does, for `untilMs`: a blocking reload for the
 * part after the newest, and each part the preload hint names asked for at once (held by the
 * edge until it comes). Every hinted part's answer is kept with how long it took.
 */
async function followHints(playlistUrl: string, untilMs: number): Promise<HintAnswer[]> {
  const answers: Promise<HintAnswer>[] = [];
  const asked = new Set<string>();
  const deadline = Date.now() + untilMs;
  let query = '';
  while (Date.now() < deadline) {
    const response = await fetch(playlistUrl + query, { signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())) }).catch(() => undefined);
    if (!response?.ok) {
      // A blocking reload past the hold limit (the stream stalled for parts) or the deadline: ask plainly again.
      query = '';
      await new Promise((resolve) => setTimeout(resolve, 200));
      continue;
    }
    const text = await response.text();
    const uri = /#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"/.exec(text)?.[1];
    if (uri && !asked.has(uri)) {
      asked.add(uri);
      const started = Date.now();
      answers.push(
        fetch(new URL(uri, playlistUrl), { signal: AbortSignal.timeout(15_000) })
          .then(async (part) => ({ uri, status: part.status, ms: Date.now() - started, body: part.status === 200 ? '' : await part.text() }))
          .catch(() => ({ uri, status: 0, ms: Date.now() - started, body: '' })),
      );
    }
    query = nextPartQuery(text);
  }
  return Promise.all(answers);
}

describe('storage faults with a viewer watching', () => {
  let edgeUrl: string;
  let platform: Platform | undefined;
  let proxy: FaultProxy | undefined;
  let s3: TestS3Server | undefined;
  let publisher: TestPublisher | undefined;
  let player: PlayerPage | undefined;
  let checker: PlaylistChecker | undefined;
  const lines: string[] = [];

  const lastSegment = async () => {
    const response = await fetch(`${edgeUrl}/live/faulty/source/index.m3u8`, { signal: AbortSignal.timeout(5000) });
    const manifest = parseM3u8(await response.text());
    return manifest.mediaSequence! + manifest.segments.length - 1;
  };
  const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  beforeAll(async () => {
    s3 = await startS3Server();
    // Writes are PUTs (objects), DELETEs and POSTs (S3's multi-object delete); reads pass.
    proxy = await startFaultProxy(s3.endpoint, (method) => method === 'PUT' || method === 'DELETE' || method === 'POST');
    platform = await startTestPlatform('e2e-storage-faults', {
      edge: 'deno',
      s3: { endpoint: proxy.url, bucket: s3.bucket, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      lines,
      ingest: { reconnectWindow: 0, args: ['--playlist-window', '20'] },
    });
    edgeUrl = platform.edgeUrl;
    publisher = publishTestPattern(platform.publishUrl('faulty'), 120);
    await eventually('the stream to be live', 40_000, async () => ((await lastSegment().catch(() => -1)) >= 2 ? true : undefined));
    checker = watchPlaylists([`${edgeUrl}/live/faulty/source/index.m3u8`, `${edgeUrl}/live/faulty/audio/index.m3u8`], 300);
    player = await openPlayerPage(`${edgeUrl}/watch/faulty`);
    await eventually('playback to start', 30_000, async () => ((await player!.state()).playing ? true : undefined));
  });

  afterAll(async () => {
    await checker?.stop();
    await player?.close();
    await publisher?.stop();
    // The sidecar and the edge first (the edge's last writes go through the proxy), then the bucket.
    await platform?.stop();
    await proxy?.close();
    await s3?.close();
  });

  it('rides out 10 s of refused writes and 10 s of slow ones, listing nothing missing, and the viewer plays on', async () => {
    await pause(3000);
    const before = await lastSegment();
    proxy!.mode = { kind: 'fail', status: 503 };
    const hints = followHints(`${edgeUrl}/live/faulty/source/index.m3u8`, (FAULT_SECONDS - 1) * 1000);
    try {
      await pause(FAULT_SECONDS * 1000);
      // Nothing new could be stored, so nothing new was listed.
      expect(await lastSegment()).toBeLessThanOrEqual(before + 1);
      // Storage fell behind, so the sidecar withheld the next segment's parts and said so: the
      // request held for the part hinted in its place was answered 404 with the reason at once,
      // not after the hold limit (three target durations, 6 s); every hint was answered promptly.
      const hinted = await hints;
      lines.push(`[test] hinted parts followed during the fault: ${JSON.stringify(hinted)}`);
      expect(hinted.filter((answer) => answer.status === 404 && answer.body.includes('storage is a segment or more behind')).length).toBeGreaterThan(0);
      expect(Math.max(...hinted.map((answer) => answer.ms))).toBeLessThan(3000);
      proxy!.mode = { kind: 'delay', ms: 700 };
      await pause(FAULT_SECONDS * 1000);
      proxy!.mode = { kind: 'pass' };
      // The backlog drains: the playlist moves past what the publisher made during the faults.
      await eventually('the playlist to catch up', 30_000, async () => ((await lastSegment()) >= before + (2 * FAULT_SECONDS) / 2 ? true : undefined));
      expect(proxy!.faulted).toBeGreaterThan(10);
      const resumedAt = await player!.currentTime();
      await pause(6000);
      const state = await player!.state();
      lines.push(`[test] player ${JSON.stringify(state)}`);
      expect(state.fatal).toBeNull();
      expect(await player!.currentTime()).toBeGreaterThan(resumedAt + 3);
      expect(checker!.missing).toEqual([]);
      expect(checker!.versions.get(`${edgeUrl}/live/faulty/source/index.m3u8`)!.length).toBeGreaterThan(10);
      // The sidecar said so while it happened.
      expect(lines.some((line) => line.includes('storage is slower than real time') || line.includes('"level":40'))).toBe(true);
    } finally {
      // A failed assertion must not leave the next test a proxy that refuses or delays everything.
      proxy!.mode = { kind: 'pass' };
    }
  });

  it('rides out a restart of the edge (its live state lost): low-latency parts come back, the viewer plays on', async () => {
    const before = await lastSegment();
    await platform!.restartEdge({ downForMs: 3000, tag: 'edge 2' });
    await eventually('the playlist to move on after the restart', 40_000, async () => ((await lastSegment().catch(() => -1)) >= before + 3 ? true : undefined));
    // The live state rebuilt from the next parts and the stored playlist: parts are listed again.
    await eventually('parts in the playlist again', 20_000, async () => {
      const text = await (await fetch(`${edgeUrl}/live/faulty/source/index.m3u8`)).text();
      return text.includes('#EXT-X-PART:') ? true : undefined;
    });
    const resumedAt = await player!.currentTime();
    await waitForPlayheadPast(player!, resumedAt + 3, 'the viewer to play on', 30_000);
    const state = await player!.state();
    lines.push(`[test] player after the edge restart ${JSON.stringify(state)}`);
    expect(state.fatal).toBeNull();
    await checker!.stop();
    expect(checker!.missing).toEqual([]);
  });
});
