/**
 * Recordings over the real path (#17 item 3): the edge under wrangler dev (local R2, D1, queue),
 * a sidecar asking its registry (its retention `window`, a 3-segment window), a stream set to
 * record (its registry setting), ffmpeg publishing 12 s of test pattern in two sessions (the
 * publisher reconnects within the 3 s window: one broadcast, a second session with its own init
 * segment and timeline). After the publisher stops and the window passes: stream.recording.ready
 * arrives signed, `npm run streams -- recordings` lists the recording, its VOD HLS decodes end
 * to end in ffmpeg (fetched over HTTP from the edge), its DASH MPD is static and lists only
 * segments the edge serves, and the ended stream's status names it. Its `.mp4` URL downloads over
 * real HTTP as an attachment of the announced length (no chunked framing: Workers'
 * FixedLengthStream), and the file is what a person would open: ffprobe finds one H.264 and one
 * AAC stream of the broadcast's length, ffmpeg decodes every frame without a complaint, and a
 * byte range of it (a player seeking, a resumed download) is those bytes of the file.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseMpd } from 'mpd-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { locateFfmpeg } from '../../ingest/transcode/ffmpeg-binary.ts';
import type { RecordingView } from '../../ingest/recordings/recordings-cli.ts';
import { PROJECT_ROOT, startEdgeDev, startIngest } from '../../scripts/lib/local-platform.ts';
import type { ManagedProcess } from '../../scripts/lib/managed-process.ts';
import { verifyWebhook, type WebhookEvent } from '../../shared/webhooks.ts';
import { runFfprobe } from '../helpers/ffprobe.ts';
import { parseM3u8 } from '../helpers/m3u8.ts';
import { eventually, freePort, within } from '../helpers/network.ts';
import { publishTestPattern } from '../helpers/publisher.ts';
import { saveTestLog } from '../helpers/test-log.ts';

const WEBHOOK_SECRET = randomBytes(24).toString('base64url');
// Published in two sessions: the publisher reconnects within the reconnect window.
const SESSIONS = [6, 6];
const PUBLISH_SECONDS = SESSIONS[0]! + SESSIONS[1]!;

/** What ffmpeg says decoding `url` to nothing: its exit code and errors. */
function decode(url: string): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(locateFfmpeg(), ['-v', 'error', '-i', url, '-map', '0', '-f', 'null', '-'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.on('data', (chunk: Buffer) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, err }));
  });
}

describe('a broadcast becomes a recording', () => {
  let dir: string;
  let edgeUrl: string;
  let rtmpBase: string;
  let adminToken: string;
  let receiver: Server;
  const running: ManagedProcess[] = [];
  const events: { event: WebhookEvent; verified: boolean }[] = [];
  const lines: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'e2e-recordings-'));
    receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', async () => {
        const headers = new Headers(Object.entries(request.headers).map(([name, value]) => [name, String(value)]));
        events.push({ event: JSON.parse(body) as WebhookEvent, verified: (await verifyWebhook(WEBHOOK_SECRET, headers, body, Date.now())).ok });
        lines.push(`[receiver] ${body}`);
        response.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const [edgePort, rtmpPort] = [await freePort(), await freePort()];
    edgeUrl = `http://127.0.0.1:${edgePort}`;
    rtmpBase = `rtmp://127.0.0.1:${rtmpPort}/live`;
    const secret = randomBytes(16).toString('hex');
    adminToken = randomBytes(24).toString('base64url');
    const hooks = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    running.push(
      await startEdgeDev({ port: edgePort, ingestSecret: secret, adminToken, vars: { WEBHOOK_URLS: hooks, WEBHOOK_SECRET }, persistTo: join(dir, 'wrangler'), logLevel: 'warn', onLine: (line) => lines.push(`[edge] ${line}`) }),
    );
    running.push(
      await startIngest({
        rtmpPort,
        edgeUrl,
        ingestSecret: secret,
        stateDir: join(dir, 'state'),
        // The sidecar's own retention is `window`: the stream records because its own setting says so.
        extraArgs: ['--stream-registry', 'edge', '--reconnect-window', '3', '--ladder', 'none', '--low-latency', 'off', '--playlist-window', '3', '--recording-days', '7'],
        env: { LOG_FORMAT: 'json' },
        onLine: (line) => lines.push(`[ingest] ${line}`),
      }),
    );
  });

  afterAll(async () => {
    for (const process of running.reverse()) await process.stop();
    receiver?.close();
    rmSync(dir, { recursive: true, force: true });
    saveTestLog('e2e-recordings', lines);
  });

  let ready: { id: string; playbackId: string; mp4: string } | undefined;

  it('is listed, plays as VOD HLS and DASH, and stream.recording.ready says so', async () => {
    const cli = (...args: string[]) => spawnSync(process.execPath, [join(PROJECT_ROOT, 'ingest/streams/cli.ts'), '--json', ...args], { encoding: 'utf8', env: { ...process.env, EDGE_URL: edgeUrl, ADMIN_TOKEN: adminToken } });
    const added = cli('add', 'studio');
    expect(added.status, added.stderr).toBe(0);
    const { streamKey, playbackId } = JSON.parse(added.stdout) as { streamKey: string; playbackId: string };
    const recordOn = cli('recordings', 'studio', '--record', 'on');
    expect(recordOn.status, recordOn.stderr).toBe(0);
    expect(JSON.parse(recordOn.stdout)).toMatchObject({ name: 'studio', recording: true });
    // Its recordings are kept 3 days, over the sidecar's --recording-days 7.
    const kept = await fetch(`${edgeUrl}/api/v1/streams/studio`, { method: 'PATCH', headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ recordingDays: 3 }) });
    expect(kept.status).toBe(200);

    for (const seconds of SESSIONS) await within('the publisher to finish', 40_000, publishTestPattern(`${rtmpBase}/${streamKey}`, seconds).exited);

    // The reconnect window (3 s) passes, the recording's documents are written, the event is delivered.
    const readyEvent = await eventually('stream.recording.ready', 30_000, async () => events.find(({ event }) => event.type === 'stream.recording.ready'));
    expect(readyEvent.verified).toBe(true);
    const recording = readyEvent.event.data.recording!;
    expect(recording.urls?.hls).toBe(`${edgeUrl}/recordings/${playbackId}/${recording.id}/index.m3u8`);
    expect(recording.durationSeconds).toBeGreaterThan(PUBLISH_SECONDS - 2);
    expect(recording.durationSeconds).toBeLessThan(PUBLISH_SECONDS + 2);
    expect(recording.bytes).toBeGreaterThan(100_000);

    const listed = cli('recordings', 'studio');
    expect(listed.status, listed.stderr).toBe(0);
    const recordings = JSON.parse(listed.stdout) as RecordingView[];
    expect(recordings).toMatchObject([{ id: recording.id, state: 'ready', durationSeconds: recording.durationSeconds, bytes: recording.bytes }]);
    expect(recordings[0]!.expiresAt && Date.parse(recordings[0]!.expiresAt) - Date.parse(recordings[0]!.endedAt!)).toBe(3 * 86_400_000);

    // VOD HLS over HTTP from the edge: every segment of the 12 s (nothing deleted by window retention), decoded.
    const media = parseM3u8(await (await fetch(`${edgeUrl}/recordings/${playbackId}/${recording.id}/source/index.m3u8`)).text());
    expect(media.playlistType).toBe('VOD');
    expect(media.endList).toBe(true);
    expect(media.segments.reduce((sum, segment) => sum + segment.duration, 0)).toBeCloseTo(recording.durationSeconds, 0);
    const decoded = await decode(recording.urls!.hls);
    expect(decoded.err.trim()).toBe('');
    expect(decoded.code).toBe(0);
    const probe = await runFfprobe(['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_type,codec_name,nb_read_frames', '-of', 'json', recording.urls!.hls], new Uint8Array());
    const streams = (JSON.parse(probe.out) as { streams: { codec_type: string; codec_name: string; nb_read_frames: string }[] }).streams;
    expect(streams.map((stream) => `${stream.codec_type}:${stream.codec_name}`).sort()).toEqual(['audio:aac', 'video:h264']);
    // 30 frames a second for the whole recording, within a second.
    const frames = Number(streams.find((stream) => stream.codec_type === 'video')!.nb_read_frames);
    expect(Math.abs(frames - recording.durationSeconds * 30)).toBeLessThanOrEqual(30);

    // DASH: a static MPD over the same segments, each served by the edge.
    const mpdUrl = recording.urls!.dash;
    const mpdText = await (await fetch(mpdUrl)).text();
    expect(mpdText).toContain('type="static"');
    const mpd = parseMpd(mpdText, { manifestUri: mpdUrl });
    const dashSegments = [...mpd.playlists, ...Object.values(mpd.mediaGroups.AUDIO).flatMap((group) => Object.values(group).flatMap((audio) => audio.playlists))].flatMap((playlist) => playlist.segments);
    expect(dashSegments.length).toBeGreaterThanOrEqual(2 * media.segments.length);
    for (const url of new Set(dashSegments.flatMap((segment) => [segment.resolvedUri, segment.map!.resolvedUri]))) {
      const response = await fetch(url, { method: 'HEAD' });
      expect(response.status, url).toBe(200);
    }

    // The ended stream's status names the recording: what the player page plays.
    const status = (await (await fetch(`${edgeUrl}/live/${playbackId}/status.json`)).json()) as { state: string; recording?: { id: string; state: string } };
    expect(status).toMatchObject({ state: 'ended', recording: { id: recording.id, state: 'ready' } });
    expect(lines.join('\n')).not.toContain(streamKey);
    ready = { id: recording.id, playbackId, mp4: recording.urls!.mp4 };
  });

  it('downloads as one MP4 of the broadcast (both sessions) that plays end to end', async () => {
    const { id, playbackId, mp4 } = ready ?? expect.fail('no ready recording (the test before failed)');
    const response = await fetch(mp4);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('video/mp4');
    expect(response.headers.get('content-disposition')).toBe(`attachment; filename="${playbackId}-${id}.mp4"`);
    // Workers sends the length (FixedLengthStream), not a chunked body: a browser shows the download's size and progress.
    const length = Number(response.headers.get('content-length'));
    expect(response.headers.get('transfer-encoding')).toBeNull();
    const body = new Uint8Array(await response.arrayBuffer());
    expect(body.length).toBe(length);
    const file = join(dir, 'download.mp4');
    writeFileSync(file, body);

    const { out, err, code } = await runFfprobe(['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_type,codec_name,nb_read_frames:format=duration', '-of', 'json', '-i', file], new Uint8Array());
    expect(err.trim()).toBe('');
    expect(code).toBe(0);
    const probed = JSON.parse(out) as { streams: { codec_type: string; codec_name: string; nb_read_frames: string }[]; format: { duration: string } };
    expect(probed.streams.map((stream) => `${stream.codec_type}/${stream.codec_name}`)).toEqual(['video/h264', 'audio/aac']);
    // The broadcast's 12 s at 30 fps, the second session after the first: whole segments, so within a segment's worth at most.
    expect(Math.abs(Number(probed.format.duration) - PUBLISH_SECONDS)).toBeLessThanOrEqual(1);
    expect(Number(probed.streams[0]!.nb_read_frames)).toBeGreaterThanOrEqual((PUBLISH_SECONDS - 1) * 30);
    const decoded = await decode(file);
    expect(decoded.err.trim()).toBe('');
    expect(decoded.code).toBe(0);

    const middle = Math.floor(length / 2);
    const range = await fetch(mp4, { headers: { range: `bytes=${middle}-${middle + 99_999}` } });
    expect(range.status).toBe(206);
    expect(new Uint8Array(await range.arrayBuffer())).toEqual(body.subarray(middle, middle + 100_000));
  });
});
