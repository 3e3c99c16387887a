/**
 * The sidecar's live channel as the edge sees it, run against the Node edge (a real server, real
 * WebSockets) and inside workerd (the stream's Durable Object): parts arrive in order, held
 * requests for hinted parts are answered with exactly their bytes or a 404 the moment the part
 * will not come, a segment named by its parts is stored from them (R2 through the Durable Object's
 * binding on Workers), and the stream's lease goes to one sidecar at a time.
 */
import { expect, it } from 'vitest';
import { renderMpd } from '../../shared/dash/mpd.ts';
import { CLOSE_CREDENTIAL_EXPIRED, CLOSE_LEASE_HELD, encodeMessage, encodePartFrame, LEASE_TTL_MS, TAKEOVER_ALLOWANCE_MS, type PartFrame } from '../../shared/live-channel-protocol.ts';
import { streamWriteToken, WRITE_TOKEN_TTL_SECONDS } from '../../shared/write-api.ts';
import { RECONNECT_GRACE_MS } from '../../edge/low-latency/live-channel-hub.ts';

/** A channel as a test drives it: what it sends, what the edge says, how it closed. */
export interface TestChannel {
  send(data: string | Uint8Array): void;
  /** The edge's next text message (JSON-parsed). */
  next(): Promise<{ type: string; reason?: string; ttlMs?: number }>;
  close(): void;
  closed: Promise<{ code: number; reason: string }>;
}

export interface ChannelEdge {
  /** An HTTP request to the edge. */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** Opens a live channel; a refused upgrade is the HTTP response. */
  open(path: string, authorization: string | undefined): Promise<TestChannel | Response>;
}

/** Wraps a standard WebSocket (Node's global one, or workerd's accepted client end). */
export function testChannel(socket: WebSocket): TestChannel {
  const messages: string[] = [];
  const waiting: Array<(text: string) => void> = [];
  socket.addEventListener('message', (event) => {
    if (typeof event.data !== 'string') return;
    const take = waiting.shift();
    if (take) take(event.data);
    else messages.push(event.data);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => socket.addEventListener('close', (event) => resolve({ code: event.code, reason: event.reason })));
  return {
    send: (data) => socket.send(data),
    next: () => new Promise((resolve) => (messages.length > 0 ? resolve(JSON.parse(messages.shift()!)) : waiting.push((text) => resolve(JSON.parse(text))))),
    close: () => socket.close(1000),
    closed,
  };
}

const SESSION = 'chansession1';
const SEGMENT_TICKS = 180_000;

function file(msn: number, index: number): string {
  return `${SESSION}-${msn * SEGMENT_TICKS}.p${index}.m4s`;
}

function part(rendition: string, msn: number, index: number): PartFrame {
  const salt = rendition === 'audio' ? 101 : 0;
  return {
    rendition,
    file: file(msn, index),
    contentType: rendition === 'audio' ? 'audio/mp4' : 'video/mp4',
    bytes: Uint8Array.from({ length: 900 + index + salt }, (_, i) => (msn * 7 + index * 13 + i + salt) % 251),
    msn,
    duration: 0.33333,
    independent: index === 0,
    next: file(msn, index + 1),
    partTarget: 0.4,
  };
}

function playlist(count: number): string {
  const lines = ['#EXTM3U', '#EXT-X-VERSION:7', '#EXT-X-TARGETDURATION:2', '#EXT-X-MEDIA-SEQUENCE:0', `#EXT-X-MAP:URI="init-${SESSION}.mp4"`];
  for (let msn = 0; msn < count; msn++) lines.push(`#EXT-X-PROGRAM-DATE-TIME:${new Date(1_700_000_000_000 + msn * 2000).toISOString()}`, '#EXTINF:2.00000,', `${SESSION}-${msn * SEGMENT_TICKS}.m4s`);
  return `${lines.join('\n')}\n`;
}

export function liveChannelTests(edge: ChannelEdge, secret: string, prefix: string): void {
  let streams = 0;

  async function stream() {
    streams += 1;
    const id = `${prefix}${streams}`;
    const token = await streamWriteToken(secret, id);
    const put = async (path: string, body: string, type: string) => {
      const response = await edge.request(`/_ingest/objects/streams/${id}/${path}`, { method: 'PUT', headers: { authorization: `Bearer ${token}`, 'content-type': type }, body });
      expect(response.status, path).toBe(201);
    };
    const status = { playbackId: id, state: 'live', startedAt: 0, updatedAt: 0, targetDuration: 2, reconnects: 0, renditions: [], playback: 'public', lowLatency: { partTarget: 0.4 } };
    await put('status.json', JSON.stringify(status), 'application/json');
    for (const rendition of ['video', 'audio']) await put(`${rendition}/index.m3u8`, playlist(2), 'application/vnd.apple.mpegurl');
    const open = async (sidecar: string) => {
      const channel = await edge.open(`/_ingest/live/${id}?sidecar=${sidecar}&broadcast=b1`, `Bearer ${token}`);
      if (channel instanceof Response) throw new Error(`channel refused: ${channel.status} ${await channel.text()}`);
      return channel;
    };
    const granted = async (sidecar: string) => {
      const channel = await open(sidecar);
      expect(await channel.next()).toEqual({ type: 'lease', ttlMs: LEASE_TTL_MS });
      return channel;
    };
    return { id, token, put, open, granted, get: (path: string) => edge.request(`/live/${id}/${path}`) };
  }

  it('closes a channel when the write token it was opened with expires (4401), and takes the same sidecar back with a new token', async () => {
    const { id, granted } = await stream();
    // A token minted 1.5 s short of its hour: it expires within the next 0.5-1.5 s (whole seconds).
    const expiring = await streamWriteToken(secret, id, Date.now() - WRITE_TOKEN_TTL_SECONDS * 1000 + 1500);
    const channel = await edge.open(`/_ingest/live/${id}?sidecar=sidecar-a&broadcast=b1`, `Bearer ${expiring}`);
    if (channel instanceof Response) throw new Error(`channel refused: ${channel.status} ${await channel.text()}`);
    expect(await channel.next()).toEqual({ type: 'lease', ttlMs: LEASE_TTL_MS });
    const started = Date.now();
    const closed = await channel.closed;
    expect(closed.code).toBe(CLOSE_CREDENTIAL_EXPIRED);
    expect(closed.reason).toMatch(/write token expired/);
    expect(Date.now() - started).toBeLessThan(2500);
    // Its lease is kept for its return with a fresh token (granted); another sidecar is refused meanwhile.
    const other = await edge.open(`/_ingest/live/${id}?sidecar=sidecar-b&broadcast=b2`, `Bearer ${await streamWriteToken(secret, id)}`);
    if (other instanceof Response) throw new Error(`channel refused: ${other.status}`);
    expect((await other.next()).type).toBe('refused');
    const again = await granted('sidecar-a');
    again.close();
  });

  it('takes parts in the order sent and lists every one of them; a held hinted part gets exactly its rendition\'s bytes', async () => {
    const { granted, get } = await stream();
    const channel = await granted('sidecar-a');
    for (let index = 0; index < 5; index++) for (const rendition of ['video', 'audio']) channel.send(encodePartFrame(part(rendition, 2, index)));
    // A blocking reload for the last part sent: answered once the edge has taken all of them.
    const text = await (await get('video/index.m3u8?_HLS_msn=2&_HLS_part=4')).text();
    const listed = [...text.matchAll(/#EXT-X-PART:[^\n]*URI="([^"]+)"/g)].map((match) => match[1]);
    expect(listed).toEqual([0, 1, 2, 3, 4].map((index) => file(2, index)));
    expect(text).toContain(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${file(2, 5)}"`);
    const held = get(`audio/${file(2, 5)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    channel.send(encodePartFrame(part('video', 2, 5)));
    channel.send(encodePartFrame(part('audio', 2, 5)));
    const answer = await held;
    expect(answer.status).toBe(200);
    expect([...new Uint8Array(await answer.arrayBuffer())]).toEqual([...part('audio', 2, 5).bytes]);
    channel.close();
  });

  it('stores a segment the sidecar names by its parts, from the parts it holds, byte for byte; answers not-stored and stores nothing when it lacks one', async () => {
    const { granted, get } = await stream();
    const channel = await granted('sidecar-a');
    const parts = [0, 1, 2].map((index) => part('video', 2, index));
    for (const frame of parts) channel.send(encodePartFrame(frame));
    // Parts of the same names for another rendition, which the video segment must not take.
    for (const index of [0, 1, 2, 3]) channel.send(encodePartFrame(part('audio', 3, index)));
    const segment = (msn: number, count: number, byteLength: number) =>
      encodeMessage({ type: 'segment', rendition: 'video', file: `${SESSION}-${msn * SEGMENT_TICKS}.m4s`, parts: Array.from({ length: count }, (_, index) => file(msn, index)), byteLength, contentType: 'video/mp4' });
    const whole = parts.reduce((sum, frame) => sum + frame.bytes.byteLength, 0);
    channel.send(segment(2, 3, whole));
    expect(await channel.next()).toEqual({ type: 'stored', rendition: 'video', file: `${SESSION}-${2 * SEGMENT_TICKS}.m4s` });
    const stored = await get(`video/${SESSION}-${2 * SEGMENT_TICKS}.m4s`);
    expect(stored.status).toBe(200);
    const expected = new Uint8Array(whole);
    let offset = 0;
    for (const frame of parts) {
      expected.set(frame.bytes, offset);
      offset += frame.bytes.byteLength;
    }
    expect(new Uint8Array(await stored.arrayBuffer())).toEqual(expected);
    // Segment 3 of video: no video part of it was sent (only audio's of the same names).
    channel.send(segment(3, 4, 4000));
    expect(await channel.next()).toMatchObject({ type: 'not-stored', rendition: 'video', reason: expect.stringMatching(/no part of video\//) });
    expect((await get(`video/${SESSION}-${3 * SEGMENT_TICKS}.m4s`)).status).toBe(404);
    channel.close();
  });

  it('answers a held hinted part 404 at once when the sidecar says it will not come, and hints it no more', async () => {
    const { granted, get } = await stream();
    const channel = await granted('sidecar-a');
    for (let index = 0; index < 3; index++) channel.send(encodePartFrame(part('video', 2, index)));
    await (await get('video/index.m3u8?_HLS_msn=2&_HLS_part=2')).text();
    const started = Date.now();
    const held = get(`video/${file(2, 3)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    channel.send(encodeMessage({ type: 'skipped', rendition: 'video', file: file(2, 3) }));
    const answer = await held;
    expect(answer.status).toBe(404);
    expect(answer.headers.get('cache-control')).toContain('no-store');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(await (await get('video/index.m3u8')).text()).not.toContain('PRELOAD-HINT');
    channel.close();
  });

  it("answers a held hint for the next segment's first part 404 at once when the sidecar withholds it (storage behind), with its reason; asked again, 404 at once; the playlist stops naming it", async () => {
    const { granted, get } = await stream();
    const channel = await granted('sidecar-a');
    const reason = 'storage is a segment or more behind: the segment is listed once stored, without parts';
    for (let index = 0; index < 5; index++) channel.send(encodePartFrame(part('video', 2, index)));
    // The segment's last part names the next segment's first as next: the hint a player holds at the boundary.
    channel.send(encodePartFrame({ ...part('video', 2, 5), next: file(3, 0) }));
    expect(await (await get('video/index.m3u8?_HLS_msn=2&_HLS_part=5')).text()).toContain(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${file(3, 0)}"`);
    const started = Date.now();
    const held = get(`video/${file(3, 0)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    channel.send(encodeMessage({ type: 'skipped', rendition: 'video', file: file(3, 0), reason }));
    const answer = await held;
    expect(answer.status).toBe(404);
    expect(answer.headers.get('cache-control')).toContain('no-store');
    expect(await answer.text()).toContain(reason);
    // Long before the hold limit (three target durations: 6 s).
    expect(Date.now() - started).toBeLessThan(2000);
    const again = Date.now();
    const later = await get(`video/${file(3, 0)}`);
    expect(later.status).toBe(404);
    expect(await later.text()).toContain(reason);
    expect(Date.now() - again).toBeLessThan(1000);
    expect(await (await get('video/index.m3u8')).text()).not.toContain(file(3, 0));
    // The other rendition's hint is its own: untouched.
    channel.send(encodePartFrame(part('audio', 2, 0)));
    expect(await (await get('audio/index.m3u8?_HLS_msn=2&_HLS_part=0')).text()).toContain(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="${file(2, 1)}"`);
    channel.close();
  });

  it(`answers a held hinted part 404 once a closed channel has not come back within ${RECONNECT_GRACE_MS} ms`, async () => {
    const { granted, get } = await stream();
    const channel = await granted('sidecar-a');
    channel.send(encodePartFrame(part('video', 2, 0)));
    await (await get('video/index.m3u8?_HLS_msn=2&_HLS_part=0')).text();
    const started = Date.now();
    const held = get(`video/${file(2, 1)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    channel.close();
    expect((await held).status).toBe(404);
    // Long before the hold limit (three target durations: 6 s).
    expect(Date.now() - started).toBeLessThan(RECONNECT_GRACE_MS + 1500);
    expect(await (await get('video/index.m3u8')).text()).not.toContain('PRELOAD-HINT');
  });

  it('answers a held hinted part with its bytes when the channel drops and the sidecar is back within the grace, sending the part again', async () => {
    const { granted, get } = await stream();
    const first = await granted('sidecar-a');
    first.send(encodePartFrame(part('video', 2, 0)));
    first.send(encodePartFrame(part('video', 2, 1)));
    await (await get('video/index.m3u8?_HLS_msn=2&_HLS_part=1')).text();
    const held = get(`video/${file(2, 2)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    first.close();
    await first.closed;
    const second = await granted('sidecar-a');
    // What the sidecar sends again after a reconnect (parts the edge has are ignored), then the next one.
    second.send(encodePartFrame(part('video', 2, 1)));
    second.send(encodePartFrame(part('video', 2, 2)));
    const answer = await held;
    expect(answer.status).toBe(200);
    expect([...new Uint8Array(await answer.arrayBuffer())]).toEqual([...part('video', 2, 2).bytes]);
    const text = await (await get('video/index.m3u8')).text();
    expect([...text.matchAll(/#EXT-X-PART:[^\n]*URI="([^"]+)"/g)].map((match) => match[1])).toEqual([0, 1, 2].map((index) => file(2, index)));
    second.close();
  });

  it('grants the lease to one sidecar: another is refused while it is held, and takes it once the holder released it', async () => {
    const { granted, open } = await stream();
    const a = await granted('sidecar-a');
    const b = await open('sidecar-b');
    const refusal = await b.next();
    expect(refusal.type).toBe('refused');
    expect(refusal.reason).toMatch(/another sidecar/);
    expect((await b.closed).code).toBe(CLOSE_LEASE_HELD);
    // The holder's own reconnect is granted (it replaces its older channel).
    const again = await granted('sidecar-a');
    expect((await a.closed).code).not.toBe(CLOSE_LEASE_HELD);
    again.send(encodeMessage({ type: 'release' }));
    await again.closed;
    (await granted('sidecar-b')).close();
  });

  it(`lets the lease of a holder that vanished (closed without release) expire within its ${LEASE_TTL_MS / 1000} s, heartbeats keep it`, async () => {
    const { granted, open } = await stream();
    const a = await granted('sidecar-a');
    // Heartbeats past one TTL keep the lease.
    for (let beat = 0; beat < 4; beat++) {
      await new Promise((resolve) => setTimeout(resolve, LEASE_TTL_MS / 3));
      a.send(encodeMessage({ type: 'heartbeat' }));
      expect((await a.next()).type).toBe('heartbeat');
    }
    const b = await open('sidecar-b');
    expect((await b.next()).type).toBe('refused');
    a.close();
    const c = await open('sidecar-c');
    expect((await c.next()).type).toBe('refused');
    await new Promise((resolve) => setTimeout(resolve, LEASE_TTL_MS + 200));
    (await granted('sidecar-c')).close();
  }, 30_000);

  it('ends the broadcast of a holder gone without a release once nobody took the stream up within its reconnect window: ENDLIST, a static MPD, status ended', async () => {
    const { id, put, open, get } = await stream();
    const renditions = ['video', 'audio'].map((name) => ({ name, kind: name, codec: name === 'video' ? 'avc1.64001f' : 'mp4a.40.2', bandwidth: 1_000_000 }));
    const recording = { id: 'rabcdefgh1', state: 'recording', hls: `/recordings/${id}/rabcdefgh1/index.m3u8`, dash: `/recordings/${id}/rabcdefgh1/manifest.mpd`, mp4: `/recordings/${id}/rabcdefgh1.mp4` };
    await put('status.json', JSON.stringify({ playbackId: id, state: 'live', startedAt: 0, updatedAt: 0, targetDuration: 2, restarts: 0, renditions, playback: 'public', recording }), 'application/json');
    const representation = (name: string) => ({ id: name, bandwidth: 1_000_000, codecs: 'avc1.64001f', timescale: 90_000, presentationTimeOffset: 0, initialization: `${name}/init-${SESSION}.mp4`, media: `${name}/${SESSION}-$Time$.m4s`, segments: [0, 1].map((msn) => ({ time: msn * SEGMENT_TICKS, duration: SEGMENT_TICKS })) });
    const live = { type: 'dynamic' as const, timeline: 'wall-clock' as const, publishTime: 1_700_000_004_000, minimumUpdatePeriod: 2, timeShiftBufferDepth: 20, suggestedPresentationDelay: 6, maxSegmentDuration: 2, minBufferTime: 4 };
    await put('manifest.mpd', renderMpd({ ...live, periods: [{ id: SESSION, start: 1_700_000_000, adaptationSets: [{ contentType: 'video', representations: [representation('video')] }] }] }), 'application/dash+xml');
    // A sidecar whose stream ends at once when its publisher leaves (window 0) opens its channel, then is gone without a word.
    const channel = await open('sidecar-gone&window=0');
    expect((await channel.next()).type).toBe('lease');
    channel.close();
    const closedAt = Date.now();
    const endListed = async () => (await (await get('video/index.m3u8')).text()).includes('#EXT-X-ENDLIST');
    // While a publisher could still come back through another sidecar (the lease, the takeover allowance), nothing changes.
    await new Promise((resolve) => setTimeout(resolve, LEASE_TTL_MS + 2_000));
    expect(await endListed()).toBe(false);
    const deadline = closedAt + LEASE_TTL_MS + TAKEOVER_ALLOWANCE_MS + 8_000;
    while (!(await endListed()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await endListed()).toBe(true);
    expect(Date.now() - closedAt).toBeGreaterThanOrEqual(LEASE_TTL_MS + TAKEOVER_ALLOWANCE_MS - 1_000);
    expect(await (await get('audio/index.m3u8')).text()).toContain('#EXT-X-ENDLIST');
    const mpd = await (await get('manifest.mpd')).text();
    expect(mpd).toContain('type="static"');
    expect(mpd).toContain(`${SESSION}-$Time$.m4s`);
    // Cached copies of the status live a second.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const status = (await (await get('status.json')).json()) as { state: string; recording?: unknown; endedAt?: number };
    expect(status.state).toBe('ended');
    expect(status.endedAt).toBeGreaterThan(closedAt);
    // Its recording cannot be finished here: the status no longer promises it.
    expect(status.recording).toBeUndefined();
  }, 60_000);

  it('refuses a channel without a credential, with another stream\'s token, or without a lease request', async () => {
    const { id, token } = await stream();
    const none = await edge.open(`/_ingest/live/${id}?sidecar=a&broadcast=b`, undefined);
    expect(none instanceof Response && none.status).toBe(401);
    const other = await edge.open(`/_ingest/live/other?sidecar=a&broadcast=b`, `Bearer ${token}`);
    expect(other instanceof Response && other.status).toBe(403);
    const noLease = await edge.open(`/_ingest/live/${id}`, `Bearer ${token}`);
    expect(noLease instanceof Response && noLease.status).toBe(400);
  });
}
