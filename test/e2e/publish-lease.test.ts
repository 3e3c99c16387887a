/**
 * One writer per stream (issue 16 item 3, first half), end to end on the Node edge with two
 * sidecars: a stream published through sidecar A holds its lease at the edge (A's live channel);
 * the same stream published through sidecar B is refused (the RTMP publisher hears why, B's log
 * says so, nothing of B's reaches storage) while A publishes; once A's stream ends (its lease
 * released) B takes the stream.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, freePort } from '../helpers/network.ts';
import { startTestPlatform } from '../helpers/platform.ts';
import type { Platform } from '../../scripts/lib/platform.ts';
import { publishTestPattern, type TestPublisher } from '../helpers/publisher.ts';
import type { ManagedProcess } from '../../scripts/lib/managed-process.ts';

describe('one sidecar per stream: the lease at the edge', () => {
  let platform: Platform | undefined;
  let publisherA: TestPublisher | undefined;
  let rtmpB = '';
  let sidecarB: ManagedProcess | undefined;
  const lines: string[] = [];
  const linesOf = (tag: string) => lines.filter((line) => line.startsWith(`[${tag}]`));

  beforeAll(async () => {
    platform = await startTestPlatform('e2e-publish-lease', { edge: 'node', lines, ingest: { reconnectWindow: 0, args: ['--ladder', 'none'] } });
    const rtmpPort = await freePort();
    sidecarB = await platform.startIngest({ name: 'ingest-b', rtmpPort, stateDir: join(platform.dir, 'state-b'), reconnectWindow: 0, args: ['--ladder', 'none'] });
    rtmpB = `rtmp://127.0.0.1:${rtmpPort}/live`;
    publisherA = publishTestPattern(platform.publishUrl('leased'), 60);
    await eventually('the stream live through sidecar A', 40_000, async () => ((await fetch(`${platform!.edgeUrl}/live/leased/source/index.m3u8`)).ok ? true : undefined));
  });

  afterAll(async () => {
    await publisherA?.stop();
    await platform?.stop();
  });

  it('refuses the stream on a second sidecar while the first holds it, with the reason, writing nothing', async () => {
    const publisherB = publishTestPattern(`${rtmpB}/leased`, 20);
    const exitCode = await Promise.race([publisherB.exited, new Promise((resolve) => setTimeout(() => resolve('still publishing'), 20_000))]);
    const refusal = linesOf('ingest-b').find((line) => line.includes('publish refused'));
    lines.push(`[test] B's publisher exited ${String(exitCode)}; B said: ${refusal}`);
    expect(refusal).toMatch(/another sidecar/);
    expect(exitCode).not.toBe('still publishing');
    expect(publisherB.stderr()).toMatch(/another sidecar|BadName|refused/i);
    // A still owns the stream: its playlist keeps moving, and B wrote nothing (no session of B's listed).
    const before = await (await fetch(`${platform!.edgeUrl}/live/leased/source/index.m3u8`)).text();
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const after = await (await fetch(`${platform!.edgeUrl}/live/leased/source/index.m3u8`)).text();
    expect(after).not.toBe(before);
    expect(after).not.toContain('#EXT-X-DISCONTINUITY');
    expect(linesOf('ingest-b').filter((line) => line.includes('"level":50'))).toEqual([]);
  });

  it('lets the second sidecar take the stream once the first ended it (lease released)', async () => {
    await publisherA!.stop();
    publisherA = undefined;
    await eventually('A to end the stream', 20_000, async () => (linesOf('ingest').some((line) => line.includes('stream ended')) ? true : undefined));
    const publisherB = publishTestPattern(`${rtmpB}/leased`, 30);
    try {
      const session = await eventually('B to start its broadcast', 40_000, async () => {
        const started = linesOf('ingest-b').find((line) => line.includes('remux started'));
        return started ? (JSON.parse(started.slice('[ingest-b] '.length)) as { session: string }).session : undefined;
      });
      // B's writes went through (its lease granted): its session's segments are listed at the edge.
      await eventually("B's segments in the stream's playlist", 30_000, async () => ((await (await fetch(`${platform!.edgeUrl}/live/leased/source/index.m3u8`)).text()).includes(`${session}-`) ? true : undefined));
      expect(linesOf('ingest-b').filter((line) => line.includes('publish refused'))).toHaveLength(1);
    } finally {
      await publisherB.stop();
    }
  });

  it('ends a broadcast whose sidecar died with nobody taking it up: the edge writes ENDLIST, a static MPD and status ended', async () => {
    const edgeUrl = platform!.edgeUrl;
    const publisher = publishTestPattern(`${rtmpB}/orphan`, 60);
    try {
      await eventually('the stream live through sidecar B', 40_000, async () => ((await (await fetch(`${edgeUrl}/live/orphan/source/index.m3u8`)).text()).includes('#EXTINF') ? true : undefined));
      sidecarB!.signal('SIGKILL');
      await sidecarB!.exited;
      const killedAt = Date.now();
      const playlist = async () => (await fetch(`${edgeUrl}/live/orphan/source/index.m3u8`)).text();
      expect(await playlist()).not.toContain('#EXT-X-ENDLIST');
      // Its lease (6 s), its reconnect window (0 here) and the takeover allowance (15 s): then the edge ends it.
      const ended = await eventually('the edge to end the broadcast', 45_000, async () => ((await playlist()).includes('#EXT-X-ENDLIST') ? true : undefined));
      expect(ended).toBe(true);
      expect(Date.now() - killedAt).toBeGreaterThan(15_000);
      expect(await (await fetch(`${edgeUrl}/live/orphan/audio/index.m3u8`)).text()).toContain('#EXT-X-ENDLIST');
      expect(await (await fetch(`${edgeUrl}/live/orphan/manifest.mpd`)).text()).toContain('type="static"');
      const status = await eventually('the status to say ended', 5_000, async () => {
        const document = (await (await fetch(`${edgeUrl}/live/orphan/status.json`)).json()) as { state: string };
        return document.state === 'ended' ? document : undefined;
      });
      expect(status.state).toBe('ended');
      expect(linesOf('edge:node').some((line) => line.includes('stream orphan: ended by the edge'))).toBe(true);
    } finally {
      await publisher.stop();
    }
  });
});

