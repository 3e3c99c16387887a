/**
 * Restreaming end to end: a stream with one output to a real RTMP server (nginx with the RTMP
 * module, recording what it receives). The recording has the source's codec, picture size and
 * duration (copied, not re-encoded); the target killed mid-stream and started again on the same
 * port makes the output retry and go live again by itself, while the stream's own HLS playlist
 * keeps advancing throughout; the target's key is in no log line or API answer. A second output
 * goes over RTMPS (to the sidecar's own RTMPS port, as another stream of it), its certificate
 * verified against the CA file the sidecar is given. The streams and outputs live in the platform
 * (management API, sidecar with --stream-registry edge, as `npm start` runs it): the output's state
 * shows there too, as the sidecar reports it (live, retrying: REASON, live again, idle at the end).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../scripts/lib/local-platform.ts';
import { probePicture, runFfprobe } from '../helpers/ffprobe.ts';
import { eventually, freePort } from '../helpers/network.ts';
import { createRtmpTarget, type RtmpTarget } from '../helpers/nginx-rtmp-target.ts';
import { startTestPlatform, type Platform } from '../helpers/platform.ts';
import { publishTestPattern, type TestPublisher } from '../helpers/publisher.ts';

const ADMIN_TOKEN = randomBytes(16).toString('hex');
const TARGET_KEY = `tk-${randomBytes(12).toString('hex')}`;
const PUBLISH_SECONDS = 40;

interface OutputView { id: string; url: string; state: string; reason?: string; reconnects: number }
interface StreamView { playbackId: string; renditions: { kind: string; codec: string; width?: number; height?: number }[]; outputs: OutputView[] }

/** Codec, size and media seconds (first to last video packet) of a recording. */
async function probeRecording(file: string): Promise<{ codec: string; width: number; height: number; seconds: number }> {
  const bytes = readFileSync(file);
  const picture = await probePicture(bytes);
  const packets = await runFfprobe(['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'packet=pts_time', '-of', 'csv=p=0', '-i', 'pipe:0'], bytes);
  const times = packets.out.split('\n').map(Number).filter((time) => Number.isFinite(time) && time > 0);
  return { ...picture, seconds: times.length ? Math.max(...times) - Math.min(...times) : 0 };
}

describe('restreaming to an RTMP target', () => {
  let platform: Platform | undefined;
  let target: RtmpTarget | undefined;
  let publisher: TestPublisher | undefined;
  let streamKey: string;
  let playbackId: string;
  let relay: { streamKey: string; playbackId: string };

  function cli(...args: string[]): string {
    const result = spawnSync(process.execPath, [join(PROJECT_ROOT, 'ingest/streams/cli.ts'), '--edge-url', platform!.edgeUrl, '--json', ...args], { encoding: 'utf8', env: { ...process.env, ADMIN_TOKEN } });
    if (result.status !== 0) throw new Error(`streams ${args[0]}: ${result.stderr.replaceAll(TARGET_KEY, '***')}`);
    return result.stdout;
  }
  const managementApi = async (path: string, body?: unknown) => {
    const response = await fetch(new URL(`/api/v1/streams${path ? `/${path}` : ''}`, platform!.edgeUrl), {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(5_000),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${path}: ${response.status} ${text.replaceAll(TARGET_KEY, '***')}`);
    return JSON.parse(text) as unknown;
  };
  const createStream = async (name: string) => {
    const created = (await managementApi('', { name })) as { stream: { playbackId: string }; streamKey: string };
    return { streamKey: created.streamKey, playbackId: created.stream.playbackId };
  };
  /** The rtmp: output as the management API shows it, when its status is `status` (a prefix). */
  const platformOutput = async (status: string) => {
    const { outputs } = (await managementApi('main/outputs')) as { outputs: { url: string; state: string; status: string; reason?: string }[] };
    const output = outputs.find((candidate) => candidate.url.startsWith('rtmp:'));
    return output?.status.startsWith(status) ? output : undefined;
  };

  const streamStatus = async (): Promise<StreamView | undefined> => {
    const response = await fetch(new URL('/streams', platform!.apiUrl), { headers: { authorization: `Bearer ${ADMIN_TOKEN}` }, signal: AbortSignal.timeout(5_000) });
    const body = (await response.json()) as { streams: StreamView[] };
    return body.streams.find((stream) => stream.playbackId === playbackId);
  };
  const outputState = async (state: string) => {
    const output = (await streamStatus())?.outputs.find((candidate) => candidate.url.startsWith('rtmp:'));
    return output?.state === state ? output : undefined;
  };

  beforeAll(async () => {
    // The Node edge reads its management API's admin token from its environment.
    process.env.ADMIN_TOKEN = ADMIN_TOKEN;
    platform = await startTestPlatform('e2e-restream', { edge: 'node', ingest: false });
    const dir = platform.dir;
    ({ streamKey, playbackId } = await createStream('main'));
    relay = await createStream('relay');
    target = await createRtmpTarget();
    await target.start();
    await managementApi('main/outputs', { url: target.url, key: TARGET_KEY });
    const openssl = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]);
    if (openssl.status !== 0) throw new Error(`openssl: ${openssl.stderr}`);
    const rtmpsPort = await freePort();
    await managementApi('main/outputs', { url: `rtmps://127.0.0.1:${rtmpsPort}/live`, key: relay.streamKey });
    await platform.startIngest({
      open: false,
      api: true,
      reconnectWindow: 0,
      env: { ADMIN_TOKEN },
      args: ['--stream-registry', 'edge', '--rtmps-port', String(rtmpsPort), '--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem'), '--restream-ca-file', join(dir, 'cert.pem')],
    });
  }, 120_000);

  afterAll(async () => {
    await publisher?.stop();
    await platform?.stop();
    await target?.close();
    delete process.env.ADMIN_TOKEN;
  });

  it('lists the output with its key redacted, idle before the stream is live', () => {
    const listed = cli('outputs', 'list', 'main');
    expect(listed).toContain(`${target!.url}/***`);
    expect(listed).not.toContain(TARGET_KEY);
    expect(JSON.parse(listed)).toContainEqual(expect.objectContaining({ url: `${target!.url}/***`, state: 'idle', status: 'idle' }));
  });

  it('forwards the stream unchanged, retries while the target is gone and resumes when it is back, the stream\'s HLS advancing throughout', async () => {
    publisher = publishTestPattern(`${platform!.rtmpUrl}/${streamKey}`, PUBLISH_SECONDS, '640x360');
    const startedAt = Date.now();
    const live = await eventually('the output to be live', 30_000, () => outputState('live'));
    expect(live.url).toBe(`${target!.url}/***`);
    const liveAt = Date.now();
    // The platform hears it from the sidecar within its 2 s look.
    await eventually('the management API to show the output live', 10_000, () => platformOutput('live'));

    // The stream's own media playlist, polled as a player does, through the outage.
    const master = await eventually('the master playlist', 20_000, async () => {
      const response = await fetch(new URL(`/live/${playbackId}/index.m3u8`, platform!.edgeUrl));
      return response.ok ? response.text() : undefined;
    });
    const mediaUrl = new URL(master.split('\n').find((line) => line && !line.startsWith('#'))!, new URL(`/live/${playbackId}/index.m3u8`, platform!.edgeUrl));
    const newestSegment: { at: number; last: number }[] = [];
    let polling = true;
    const poll = (async () => {
      while (polling) {
        const text = await fetch(mediaUrl, { signal: AbortSignal.timeout(5_000) }).then((response) => (response.ok ? response.text() : ''), () => '');
        const sequence = Number(/#EXT-X-MEDIA-SEQUENCE:(\d+)/.exec(text)?.[1] ?? NaN);
        const segments = text.split('\n').filter((line) => line.startsWith('#EXTINF')).length;
        if (Number.isFinite(sequence)) newestSegment.push({ at: Date.now(), last: sequence + segments - 1 });
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    })();

    await new Promise((resolve) => setTimeout(resolve, 8_000));
    const killedAt = Date.now();
    await target!.kill();
    const retrying = await eventually('the output to retry', 20_000, () => outputState('retrying'));
    expect(retrying.reason).toBeTruthy();
    const retryingInPlatform = await eventually('the management API to show the output retrying', 10_000, () => platformOutput('retrying: '));
    expect(retryingInPlatform.reason).toBeTruthy();
    expect(JSON.stringify(retryingInPlatform)).not.toContain(TARGET_KEY);
    await new Promise((resolve) => setTimeout(resolve, 4_000));
    await target!.start();
    const back = await eventually('the output to be live again', 40_000, () => outputState('live'));
    const backAt = Date.now();
    await eventually('the management API to show the output live again', 10_000, () => platformOutput('live'));
    expect(back.reconnects).toBeGreaterThanOrEqual(1);

    const source = (await streamStatus())!.renditions.find((rendition) => rendition.kind === 'video')!;
    // The RTMPS output: live, and the stream it feeds on the same sidecar has the source's picture.
    const all = (await (await fetch(new URL('/streams', platform!.apiUrl), { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).json()) as { streams: StreamView[] };
    expect((await streamStatus())!.outputs.find((output) => output.url.startsWith('rtmps:'))?.state).toBe('live');
    expect(all.streams.find((stream) => stream.playbackId === relay.playbackId)?.renditions.find((rendition) => rendition.kind === 'video')).toMatchObject({ width: source.width, height: source.height });
    await publisher.exited;
    const endedAt = Date.now();
    polling = false;
    await poll;

    // The stream's own playlist never stood still: a new segment at least every 6 s (2 s segments).
    const during = newestSegment.filter((sample) => sample.at >= killedAt - 2_000 && sample.at <= backAt + 2_000);
    expect(during.length).toBeGreaterThan(10);
    let lastChange = newestSegment[0]!;
    for (const sample of newestSegment) {
      if (sample.last !== lastChange.last) {
        expect(sample.last).toBeGreaterThan(lastChange.last);
        expect(sample.at - lastChange.at, `no new segment from ${new Date(lastChange.at).toISOString()}`).toBeLessThan(6_000);
        lastChange = sample;
      }
    }
    expect(during.at(-1)!.last).toBeGreaterThan(during[0]!.last + 2);

    // Two recordings: before the target went away, and after it came back.
    await eventually('the recordings to be closed', 20_000, async () => ((await streamStatus()) === undefined ? true : undefined));
    // The stream ended: its outputs run no more, and the platform says so.
    await eventually('the management API to show the output idle', 10_000, () => platformOutput('idle'));
    const recordings = target!.recordings();
    expect(recordings.length).toBe(2);
    const [before, after] = await Promise.all(recordings.map(probeRecording));
    for (const recording of [before!, after!]) expect({ codec: recording.codec, width: recording.width, height: recording.height }).toEqual({ codec: source.codec.startsWith('avc1') ? 'h264' : source.codec, width: source.width, height: source.height });
    // Durations: as long as the output was live each time, within a GOP or two (2 s keyframes).
    expect(before!.seconds).toBeGreaterThan((killedAt - liveAt) / 1000 - 4);
    expect(before!.seconds).toBeLessThan((killedAt - startedAt) / 1000 + 1);
    expect(after!.seconds).toBeGreaterThan((endedAt - backAt) / 1000 - 4);
    expect(after!.seconds).toBeLessThan((endedAt - backAt) / 1000 + 6);
    expect(before!.seconds + after!.seconds).toBeLessThan(PUBLISH_SECONDS + 1);

    // The target's key: in no log line of the sidecar.
    expect(platform!.lines.filter((line) => line.includes(TARGET_KEY) || line.includes(relay.streamKey))).toEqual([]);
    expect(platform!.linesOf('ingest').some((line) => line.includes('restream output retrying'))).toBe(true);
  });
});
