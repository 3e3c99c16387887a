/**
 * A broadcast's recording downloaded as one MP4, end to end on Workers (wrangler dev, local R2):
 * the test pattern published over RTMP with recording on (--retention all) for 5 s, then again
 * for 4 s within the reconnect window (the same broadcast: a second session with its own init
 * segment and timeline), the publisher gone and the window passed, the stream's status names its
 * ready recording;
 * its `.mp4` URL downloads over real HTTP as an attachment of the announced length (no chunked
 * framing), and the file is what a person would open: ffprobe finds one H.264 and one AAC
 * stream of the broadcast's length, and ffmpeg decodes every frame without a complaint. A byte
 * range of it (a player seeking, a resumed download) is those bytes of the file.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runFfprobe } from '../helpers/ffprobe.ts';
import { eventually } from '../helpers/network.ts';
import { startTestPlatform, type Platform } from '../helpers/platform.ts';
import { publishTestPattern, type TestPublisher } from '../helpers/publisher.ts';

const STREAM = 'keepsake';
// Published in two sessions: the publisher reconnects within the window.
const SESSIONS = [5, 4];
const SECONDS = SESSIONS[0]! + SESSIONS[1]!;

function decodeErrors(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('ffmpeg', ['-v', 'error', '-i', file, '-f', 'null', '-'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (chunk: Buffer) => (err += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve(code === 0 ? err.trim() : `exit ${code}: ${err.trim()}`));
  });
}

describe('a recording downloaded as one MP4 (Workers edge, real publish)', () => {
  let platform: Platform | undefined;
  let publisher: TestPublisher | undefined;
  let folder = '';

  beforeAll(async () => {
    folder = await mkdtemp(join(tmpdir(), 'e2e-recording-download-'));
    platform = await startTestPlatform('e2e-recording-download', { edge: 'wrangler', ingest: { open: true, reconnectWindow: 3, args: ['--retention', 'all'] } });
    publisher = publishTestPattern(platform.publishUrl(STREAM), SESSIONS[0]!, '640x360');
  }, 90_000);

  afterAll(async () => {
    await publisher?.stop();
    await platform?.stop();
    if (folder) await rm(folder, { recursive: true, force: true });
  });

  it('downloads the ended broadcast (both sessions) as one MP4 of its length that plays end to end', async () => {
    await publisher!.exited;
    publisher = publishTestPattern(platform!.publishUrl(STREAM), SESSIONS[1]!, '640x360');
    await publisher.exited;
    const mp4Path = await eventually('the ready recording in the stream status', 30_000, async () => {
      const response = await fetch(new URL(`/live/${STREAM}/status.json`, platform!.edgeUrl));
      if (response.status !== 200) return undefined;
      const status = (await response.json()) as { recording?: { state: string; mp4: string } };
      return status.recording?.state === 'ready' ? status.recording.mp4 : undefined;
    });
    const url = new URL(mp4Path, platform!.edgeUrl);
    const response = await fetch(url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('video/mp4');
    expect(response.headers.get('content-disposition')).toMatch(new RegExp(`^attachment; filename="${STREAM}-r[0-9a-z]+\\.mp4"$`));
    // Workers sends the length (FixedLengthStream), not a chunked body: a browser shows the download's size and progress.
    const length = Number(response.headers.get('content-length'));
    expect(response.headers.get('transfer-encoding')).toBeNull();
    const body = new Uint8Array(await response.arrayBuffer());
    expect(body.length).toBe(length);
    const file = join(folder, 'download.mp4');
    await writeFile(file, body);

    const { out, err, code } = await runFfprobe(['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_type,codec_name,nb_read_frames:format=duration', '-of', 'json', '-i', file], new Uint8Array());
    expect(err.trim()).toBe('');
    expect(code).toBe(0);
    const probed = JSON.parse(out) as { streams: { codec_type: string; codec_name: string; nb_read_frames: string }[]; format: { duration: string } };
    expect(probed.streams.map((stream) => `${stream.codec_type}/${stream.codec_name}`)).toEqual(['video/h264', 'audio/aac']);
    // The broadcast's 9 s at 30 fps, the second session after the first: whole segments, so within a segment's worth at most.
    expect(Math.abs(Number(probed.format.duration) - SECONDS)).toBeLessThanOrEqual(1);
    expect(Number(probed.streams[0]!.nb_read_frames)).toBeGreaterThanOrEqual((SECONDS - 1) * 30);
    expect(await decodeErrors(file)).toBe('');

    const middle = Math.floor(length / 2);
    const range = await fetch(url, { headers: { range: `bytes=${middle}-${middle + 99_999}` } });
    expect(range.status).toBe(206);
    expect(new Uint8Array(await range.arrayBuffer())).toEqual(body.subarray(middle, middle + 100_000));
  }, 60_000);
});
