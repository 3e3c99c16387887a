/**
 * Continuity, as a streamer's network and machine test it: the publisher drops and comes back
 * within the reconnect window, ffmpeg dies or stalls mid-stream, the window runs out, the sidecar
 * is killed. All the while a checker fetches every object of every playlist version, and hls.js
 * keeps playing after each fault (dash.js too, across the reconnect), or plays out to the end of
 * a stream that ended.
 */
import { randomBytes } from 'node:crypto';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatBytes } from '../../ingest/package/bytes.ts';
import { probePicture } from '../helpers/ffprobe.ts';
import { isGap, parseM3u8 } from '../helpers/m3u8.ts';
import { eventually } from '../helpers/network.ts';
import { encoderFfmpegChildren } from '../helpers/encoder-processes.ts';
import { startTestPlatform, type Platform } from '../helpers/platform.ts';
import { openPlayerPage, playheadJumpsBack, waitForPlayheadPast, waitUntilPlayedToTheEnd, type PlayerPage } from '../helpers/players.ts';
import { watchPlaylists, type PlaylistChecker } from '../helpers/playlist-checker.ts';
import { publishTestPattern, type TestPublisher } from '../helpers/publisher.ts';

const RECONNECT_WINDOW_SECONDS = 8;
const ADMIN_TOKEN = randomBytes(12).toString('hex');

describe('a stream survives reconnects and encoder crashes', () => {
  let platform: Platform | undefined;
  let edgeUrl: string;
  let apiUrl: string;
  let rtmpUrl: string;
  let checker: PlaylistChecker | undefined;
  let player: PlayerPage | undefined;
  let dashPlayer: PlayerPage | undefined;
  const publishers: TestPublisher[] = [];
  const lines: string[] = [];
  const playlistPath = '/live/cont/source/index.m3u8';

  const playlist = async () => {
    const response = await fetch(new URL(playlistPath, edgeUrl), { signal: AbortSignal.timeout(5000) });
    return parseM3u8(await response.text());
  };
  const sessionsIn = (manifest: ReturnType<typeof parseM3u8>) => new Set(manifest.segments.map((segment) => segment.uri.split('-')[0]));

  beforeAll(async () => {
    platform = await startTestPlatform('e2e-continuity', {
      edge: 'wrangler',
      lines,
      ingest: {
        reconnectWindow: RECONNECT_WINDOW_SECONDS,
        api: true,
        // A rung to encode: the faults below are ffmpeg's (a passthrough-only stream runs none).
        args: ['--playlist-window', '30', '--stall-timeout', '4', '--ladder', '180:200k', '--x264-preset', 'ultrafast'],
        env: { ADMIN_TOKEN },
      },
    });
    edgeUrl = platform.edgeUrl;
    apiUrl = platform.apiUrl;
    rtmpUrl = platform.publishUrl('cont');
  });

  afterAll(async () => {
    await checker?.stop();
    await player?.close();
    await dashPlayer?.close();
    await Promise.all(publishers.map((publisher) => publisher.stop()));
    await platform?.stop();
  });

  /** The picture ffprobe decodes from a listed segment with its init segment. */
  const pictureOf = async (segment: { uri: string; map?: { uri: string } }) => {
    const get = async (uri: string) => new Uint8Array(await (await fetch(new URL(uri, new URL(playlistPath, edgeUrl)), { signal: AbortSignal.timeout(5000) })).arrayBuffer());
    const { width, height } = await probePicture(concatBytes([await get(segment.map!.uri), await get(segment.uri)]));
    return `${width}x${height}`;
  };
  /** dash.js's own warnings and period switches (its log at info level), for a failure message. */
  const dashLog: string[] = [];

  /**
   * What dash.js holds, for a failure message beside waitForPlayheadPast's own (the page, the
   * video, its requests, the page's moves): its HTTP errors, source buffers, frames, Period and log.
   */
  async function describeDash(dash: PlayerPage): Promise<string> {
    const sourceBuffers = await dash.evaluate<string>(
      'JSON.stringify(window.sourceBuffers.slice(-2).map(({ type, buffer }) => { const ranges = []; try { for (let i = 0; i < buffer.buffered.length; i++) ranges.push(buffer.buffered.start(i).toFixed(3) + "-" + buffer.buffered.end(i).toFixed(3)); } catch (e) { ranges.push(String(e)); } return [type, ranges]; }))',
    );
    const frames = await dash.evaluate<string>('(() => { const q = document.querySelector("video").getVideoPlaybackQuality(); return JSON.stringify({ total: q.totalVideoFrames, dropped: q.droppedVideoFrames }); })()');
    const period = await dash.evaluate<string>(
      '(() => { const stream = window.dashPlayer.getActiveStream(); const info = stream && stream.getStreamInfo(); return JSON.stringify(info && { id: info.id, start: info.start, duration: info.duration, isLast: info.isLast, finished: stream.getHasFinishedBuffering() }); })()',
    );
    return (
      `HTTP errors: ${dash.httpErrors.slice(-5).join(', ') || 'none'}; source buffers: ${sourceBuffers}; frames: ${frames};` +
      ` dash.js's Period: ${period}; dash.js logged: ${dashLog.slice(-80).join(' | ')}`
    );
  }

  /**
   * A publisher on air and the hls.js page playing, as the first case leaves them: started here
   * when that case failed before them, so that one failure does not fail every case after it.
   */
  async function ensureOnAir(): Promise<void> {
    const onAir = publishers.some((publisher) => publisher.process.exitCode === null && publisher.process.signalCode === null);
    if (!onAir) {
      const sessionsBefore = sessionsIn(await playlist()).size;
      publishers.push(publishTestPattern(rtmpUrl, 40, '480x270'));
      await eventually('segments of a publisher started for this case', 30_000, async () => (sessionsIn(await playlist()).size > sessionsBefore ? true : undefined));
    }
    if (!player) {
      player = await openPlayerPage(`${edgeUrl}/watch/cont`);
      await eventually('the player to start', 30_000, async () => ((await player!.state()).playing ? true : undefined));
    }
  }

  /** A counter of the sidecar's /metrics (0 while it has never counted). */
  async function counter(name: string): Promise<number> {
    const metrics = await (await fetch(`${apiUrl}/metrics`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).text();
    const family = parsePrometheusTextFormat(metrics).find((candidate) => candidate.name === name);
    return Number(family?.metrics[0]?.value ?? 0);
  }

  /** The viewer's playhead moves on (4 s of media) after a fault, without a fatal error. */
  async function expectPlayingOn(page: PlayerPage, after: string): Promise<void> {
    const playhead = await page.currentTime();
    await waitForPlayheadPast(page, playhead + 4, `the playhead to move on after ${after}`, 30_000);
    expect((await page.state()).fatal).toBeNull();
    expect(page.pageErrors).toEqual([]);
  }

  it('continues the stream when the publisher reconnects within the window at a new picture size, and hls.js and dash.js keep playing', async () => {
    const first = publishTestPattern(rtmpUrl, 12);
    publishers.push(first);
    await eventually('the first segments', 30_000, async () => ((await playlist()).segments.length >= 2 ? true : undefined));
    checker = watchPlaylists([new URL(playlistPath, edgeUrl).href, new URL('/live/cont/audio/index.m3u8', edgeUrl).href]);
    player = await openPlayerPage(`${edgeUrl}/watch/cont`);
    dashPlayer = await openPlayerPage(`${edgeUrl}/watch/cont?format=dash`, {
      prepare: async (page) => {
        page.on('console', (message) => {
          const text = message.text();
          if (message.type() === 'warning' || message.type() === 'error' || /Switch to stream|MediaSource|Jumping gap|Stalling|PLAYBACK_ENDED|SourceBuffer|[Aa]ppend|[Rr]emov|changeType|endOfStream|[Pp]reload|finished|completed/.test(text)) dashLog.push(`${new Date().toISOString().slice(11, 23)} ${text.slice(0, 240)}`);
        });
        await page.addInitScript('const raise = setInterval(() => { if (window.dashPlayer) { window.dashPlayer.updateSettings({ debug: { logLevel: 4 } }); clearInterval(raise); } }, 5);');
        // Each source buffer's own ranges, for a failure message (the video's are their intersection).
        await page.addInitScript(
          'window.sourceBuffers = []; const add = MediaSource.prototype.addSourceBuffer;' +
            ' MediaSource.prototype.addSourceBuffer = function (type) { const buffer = add.call(this, type); window.sourceBuffers.push({ type, buffer }); return buffer; };',
        );
      },
    });
    await eventually('the player to start', 30_000, async () => ((await player!.state()).playing ? true : undefined));
    await eventually('dash.js to start', 30_000, async () => ((await dashPlayer!.state()).playing ? true : undefined));

    await first.exited;
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect((await playlist()).endList).toBeFalsy();
    // The stream says it waits for its publisher, and the player page tells the viewer.
    const status = (await (await fetch(new URL('/live/cont/status.json', edgeUrl))).json()) as { state: string };
    expect(status.state).toBe('reconnecting');
    await eventually('the player page to show the reconnect', 10_000, async () => ((await player!.text('#stream-state')).includes('waiting for it to come back') ? true : undefined));
    // The publisher comes back at another picture size (an encoder's settings changed between
    // the two connections): a new init segment after the discontinuity, the viewers play on.
    const second = publishTestPattern(rtmpUrl, 40, '480x270');
    publishers.push(second);

    const joined = await eventually('segments of the second session', 30_000, async () => {
      const manifest = await playlist();
      return sessionsIn(manifest).size >= 2 && manifest.segments.at(-1)!.uri.split('-')[0] !== manifest.segments[0]!.uri.split('-')[0] ? manifest : undefined;
    });
    const joinIndex = joined.segments.findIndex((segment) => segment.discontinuity);
    expect(joinIndex).toBeGreaterThan(0);
    expect(joined.segments.filter((segment) => segment.discontinuity)).toHaveLength(1);
    const [before, after] = [joined.segments[joinIndex - 1]!, joined.segments[joinIndex]!];
    expect(after.uri.split('-')[0]).not.toBe(before.uri.split('-')[0]);
    expect(after.map?.uri).not.toBe(before.map?.uri);
    expect(after.dateTimeObject!.getTime()).toBeGreaterThan(before.dateTimeObject!.getTime() + before.duration * 1000);
    expect(await pictureOf(before)).toBe('640x360');
    expect(await pictureOf(after)).toBe('480x270');
    expect(lines.some((line) => line.includes('remuxing the source in-process') && line.includes('"width":480') && line.includes('"height":270'))).toBe(true);

    // hls.js plays into the second session: its playhead moves on well after the join appeared.
    const playheadAtJoin = await player.currentTime();
    await waitForPlayheadPast(player, playheadAtJoin + 6, 'the playhead to move 6 s past the join', 40_000);
    expect((await player.state()).fatal).toBeNull();
    expect(player.pageErrors).toEqual([]);

    // The MPD starts a new Period at the join, and dash.js plays into it. Its timeline is the
    // wall clock (epoch availabilityStartTime; a Period starts at its session's ingest clock), so
    // the join is at the new session's program date time.
    const mpd = await (await fetch(new URL('/live/cont/manifest.mpd', edgeUrl))).text();
    expect((mpd.match(/<Period /g) ?? []).length).toBeGreaterThanOrEqual(2);
    const joinAt = after.dateTimeObject!.getTime() / 1000;
    const dash = dashPlayer!;
    await waitForPlayheadPast(dash, joinAt + 4, 'dash.js to play 4 s into the new Period', 40_000).catch(async (error: Error) => {
      throw new Error(`${error.message}; ${await describeDash(dash)}`);
    });
    expect(dash.segmentRequests.some((request) => request.url.includes(`/live/cont/source/${after.uri.split('-')[0]}-`))).toBe(true);
    // Forward all the way: through the wait for the publisher and over the join, never replaying.
    expect(playheadJumpsBack(await dash.playhead())).toEqual([]);
    // Where the page moved dash.js's playhead on (stillPlayheadMove): said, not failed on.
    const playheadMoves = await dash.evaluate<string[] | undefined>('window.playerState.playheadMoves');
    if (playheadMoves) console.info(`the player page moved dash.js's playhead: ${playheadMoves.join(', ')}`);
    expect((await dash.state()).fatal).toBeNull();
    expect(dash.pageErrors).toEqual([]);
    await dash.close();
    dashPlayer = undefined;
  });

  it('restarts a killed ffmpeg and continues the stream after a discontinuity', async () => {
    await ensureOnAir();
    const sessionsBefore = sessionsIn(await playlist()).size;
    const [restartsBefore, failuresBefore] = [await counter('ingest_ffmpeg_restarts_total'), await counter('ingest_ffmpeg_failures_total')];
    const ffmpegPids = encoderFfmpegChildren(platform!.ingest!.pid!);
    expect(ffmpegPids).toHaveLength(1);
    process.kill(Number(ffmpegPids[0]), 'SIGKILL');
    await eventually('segments from a restarted ffmpeg', 30_000, async () => (sessionsIn(await playlist()).size > sessionsBefore ? true : undefined));
    expect(await counter('ingest_ffmpeg_restarts_total')).toBe(restartsBefore + 1);
    expect(await counter('ingest_ffmpeg_failures_total')).toBe(failuresBefore + 1);
    await expectPlayingOn(player!, 'the restart');
  });

  it('kills and restarts an ffmpeg that stalls (stopped, writing nothing) while media keeps arriving', async () => {
    await ensureOnAir();
    const sessionsBefore = sessionsIn(await playlist()).size;
    const restartsBefore = await counter('ingest_ffmpeg_restarts_total');
    const [pid] = encoderFfmpegChildren(platform!.ingest!.pid!);
    process.kill(Number(pid), 'SIGSTOP');
    await eventually('segments from the ffmpeg that replaced the stalled one', 30_000, async () => (sessionsIn(await playlist()).size > sessionsBefore ? true : undefined));
    expect(lines.some((line) => line.includes('wrote nothing for'))).toBe(true);
    expect(await counter('ingest_ffmpeg_restarts_total')).toBe(restartsBefore + 1);
    await expectPlayingOn(player!, 'the stalled ffmpeg was replaced');
  });

  it('ends the stream once the window passes without a reconnect', async () => {
    await Promise.all(publishers.map((publisher) => publisher.stop()));
    const leftAt = Date.now();
    const ended = await eventually('ENDLIST', (RECONNECT_WINDOW_SECONDS + 15) * 1000, async () => {
      const manifest = await playlist();
      return manifest.endList ? manifest : undefined;
    });
    expect(Date.now() - leftAt).toBeGreaterThan((RECONNECT_WINDOW_SECONDS - 1) * 1000);
    expect(ended.segments.filter((segment) => segment.discontinuity).length).toBeGreaterThanOrEqual(3);
    await waitUntilPlayedToTheEnd(player!);
    await player!.close();
    player = undefined;
  });

  it('continues numbering in a new broadcast, and after a sidecar crash lets the publisher take the stream up again', async () => {
    const ended = await playlist();
    const broadcast = publishTestPattern(rtmpUrl, 60);
    publishers.push(broadcast);
    const fresh = await eventually('the new broadcast', 30_000, async () => {
      const manifest = await playlist();
      return !manifest.endList && manifest.segments.length >= 2 ? manifest : undefined;
    });
    // A fresh window, but sequence numbers never go back at this URL.
    expect(fresh.mediaSequence).toBe(ended.mediaSequence! + ended.segments.length);
    expect(fresh.segments.some((segment) => ended.segments.some((old) => old.uri === segment.uri))).toBe(false);
    // A viewer opens the new broadcast and watches it through the sidecar's crash and restart.
    player = await openPlayerPage(`${edgeUrl}/watch/cont`);
    await eventually('the player to start on the new broadcast', 30_000, async () => ((await player!.state()).playing ? true : undefined));

    platform!.ingest!.signal('SIGKILL');
    await platform!.ingest!.exited;
    await broadcast.exited;
    const leftBehind = await playlist();
    expect(leftBehind.endList).toBeFalsy();
    await platform!.restartIngest();

    const again = publishTestPattern(rtmpUrl, 60);
    publishers.push(again);
    const joined = await eventually('the stream taken up after the restart', 30_000, async () => {
      const manifest = await playlist();
      return manifest.segments.length > leftBehind.segments.length + 1 ? manifest : undefined;
    });
    // The segment the dead sidecar was cutting (its parts were announced) stands as a gap before the join.
    const join = joined.segments.slice(leftBehind.segments.length).find((segment) => !isGap(segment))!;
    expect(join.discontinuity).toBe(true);
    expect(joined.mediaSequence).toBe(leftBehind.mediaSequence);
    expect(joined.segments.slice(0, leftBehind.segments.length).map((segment) => segment.uri)).toEqual(leftBehind.segments.map((segment) => segment.uri));
    await expectPlayingOn(player!, 'the stream was taken up after the sidecar crash');
  });

  it('after a sidecar crash with no publisher coming back, ends the stream once the window passes', async () => {
    platform!.ingest!.signal('SIGKILL');
    await platform!.ingest!.exited;
    await Promise.all(publishers.map((publisher) => publisher.exited));
    const restartedAt = Date.now();
    await platform!.restartIngest();
    const ended = await eventually('ENDLIST after the window', (RECONNECT_WINDOW_SECONDS + 20) * 1000, async () => {
      const manifest = await playlist();
      return manifest.endList ? manifest : undefined;
    });
    expect(Date.now() - restartedAt).toBeGreaterThan((RECONNECT_WINDOW_SECONDS - 1) * 1000);
    expect(ended.segments.length).toBeGreaterThan(2);
    await waitUntilPlayedToTheEnd(player!);
  });

  it('never served a playlist version that listed a missing object, or renumbered a segment', async () => {
    await checker!.stop();
    expect(checker!.missing).toEqual([]);
    const versions = checker!.versions.get(new URL(playlistPath, edgeUrl).href)!.map(parseM3u8);
    expect(versions.length).toBeGreaterThan(10);
    // Every segment keeps one media sequence number in every version, and the first one never goes back.
    const sequenceOf = new Map<string, number>();
    let previousFirst = -1;
    for (const version of versions) {
      expect(version.mediaSequence!).toBeGreaterThanOrEqual(previousFirst);
      previousFirst = version.mediaSequence!;
      version.segments.forEach((segment, index) => {
        const sequence = version.mediaSequence! + index;
        expect(sequenceOf.get(segment.uri) ?? sequence, segment.uri).toBe(sequence);
        sequenceOf.set(segment.uri, sequence);
      });
    }
  });
});
