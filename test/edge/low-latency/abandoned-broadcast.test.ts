import { describe, expect, it } from 'vitest';
import { abandonmentDeadline, endAbandonedBroadcast, endedMediaPlaylist, endedMpd, endStaleBroadcasts, STALE_STATUS_MS } from '../../../edge/low-latency/abandoned-broadcast.ts';
import { LiveChannelHub, type AbandonmentWatch } from '../../../edge/low-latency/live-channel-hub.ts';
import { LiveStreamState } from '../../../edge/low-latency/live-stream-state.ts';
import type { Lease } from '../../../edge/low-latency/stream-lease.ts';
import { renderMpd } from '../../../shared/dash/mpd.ts';
import { parseMpd } from '../../../shared/dash/mpd-parse.ts';
import { parseMediaPlaylist, renderMediaPlaylist } from '../../../shared/hls/media-playlist.ts';
import { DEFAULT_RECONNECT_WINDOW_MS, encodeMessage, LEASE_TTL_MS, TAKEOVER_ALLOWANCE_MS } from '../../../shared/live-channel-protocol.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import type { WebhookEvent } from '../../../shared/webhooks.ts';

const NOW = 1_800_000_000_000;
const lease: Lease = { sidecar: 'sidecar-a', broadcast: 'b1', reconnectWindowMs: 10_000, expiresAt: NOW - 40_000 };

const livePlaylist = renderMediaPlaylist({
  targetDuration: 2,
  mediaSequence: 7,
  discontinuitySequence: 1,
  ended: false,
  segments: [0, 1, 2].map((i) => ({ uri: `sessiona1-${i * 180_000}.m4s`, duration: 2.002, initUri: 'init-sessiona1.mp4', programDateTime: NOW - 60_000 + i * 2002, ...(i === 1 ? { discontinuity: true } : {}), ...(i === 2 ? { gap: true } : {}) })),
});

const liveMpd = renderMpd({
  type: 'dynamic',
  timeline: 'wall-clock',
  publishTime: NOW - 50_000,
  minimumUpdatePeriod: 2,
  timeShiftBufferDepth: 20,
  suggestedPresentationDelay: 6,
  maxSegmentDuration: 2,
  minBufferTime: 4,
  timeUrl: '/time',
  periods: [{ id: 'sessiona1', start: (NOW - 60_000) / 1000, adaptationSets: [{ contentType: 'video', representations: [{ id: 'source', bandwidth: 1e6, codecs: 'avc1.64001f', timescale: 90_000, presentationTimeOffset: 0, initialization: 'source/init-sessiona1.mp4', media: 'source/sessiona1-$Time$.m4s', segments: [{ time: 0, duration: 180_000 }] }] }] }],
});

function liveStatus(overrides: Record<string, unknown> = {}) {
  return {
    playbackId: 'gone',
    state: 'live',
    startedAt: NOW - 120_000,
    updatedAt: NOW - 45_000,
    targetDuration: 2,
    restarts: 0,
    renditions: [
      { name: 'source', kind: 'video', codec: 'avc1.64001f', bandwidth: 1e6 },
      { name: 'audio', kind: 'audio', codec: 'mp4a.40.2', bandwidth: 128_000 },
    ],
    lowLatency: { partTarget: 0.333 },
    recording: { id: 'rabcdefgh1', state: 'recording', hls: '/recordings/gone/rabcdefgh1/index.m3u8', dash: '/recordings/gone/rabcdefgh1/manifest.mpd', mp4: '/recordings/gone/rabcdefgh1.mp4' },
    ...overrides,
  };
}

async function storeWith(status: object, store = new MemoryObjectStore(), playbackId = 'gone'): Promise<MemoryObjectStore> {
  await store.put(`streams/${playbackId}/status.json`, JSON.stringify({ ...status, playbackId }), { contentType: 'application/json' });
  for (const rendition of ['source', 'audio']) await store.put(`streams/${playbackId}/${rendition}/index.m3u8`, livePlaylist, { contentType: 'application/vnd.apple.mpegurl' });
  await store.put(`streams/${playbackId}/manifest.mpd`, liveMpd, { contentType: 'application/dash+xml' });
  return store;
}

async function text(store: MemoryObjectStore, key: string): Promise<string> {
  return new Response((await store.get(key))!.body).text();
}

describe('ending a broadcast whose sidecar is gone', () => {
  it('is due once the lease, the reconnect window and the takeover allowance have passed (a lease naming no window: the default)', () => {
    expect(abandonmentDeadline(lease)).toBe(lease.expiresAt + 10_000 + TAKEOVER_ALLOWANCE_MS);
    expect(abandonmentDeadline({ ...lease, reconnectWindowMs: undefined })).toBe(lease.expiresAt + DEFAULT_RECONNECT_WINDOW_MS + TAKEOVER_ALLOWANCE_MS);
  });

  it('closes a media playlist with ENDLIST and keeps everything it listed; leaves an ended one alone', () => {
    const ended = endedMediaPlaylist(livePlaylist)!;
    expect(ended.trimEnd().endsWith('#EXT-X-ENDLIST')).toBe(true);
    expect({ ...parseMediaPlaylist(ended), ended: false }).toEqual(parseMediaPlaylist(livePlaylist));
    expect(endedMediaPlaylist(ended)).toBeUndefined();
  });

  it('makes the MPD static on the timeline it had live; leaves a static one alone', () => {
    const ended = endedMpd(liveMpd, NOW)!;
    const { type, publishTime, periods, timeline } = parseMpd(ended);
    expect({ type, publishTime, timeline }).toEqual({ type: 'static', publishTime: NOW, timeline: 'wall-clock' });
    expect(periods).toEqual(parseMpd(liveMpd).periods);
    expect(endedMpd(ended, NOW)).toBeUndefined();
  });

  it('ends every playlist, the MPD, then the status (no parts, no recording it cannot finish), and reports stream.idle', async () => {
    const store = await storeWith(liveStatus());
    const events: WebhookEvent[] = [];
    const outcome = await endAbandonedBroadcast('gone', lease, { store, now: () => NOW, report: async (event) => events.push(event) });
    expect(outcome).toEqual({ ended: true, playlists: 2, mpd: true, recordingLeft: 'rabcdefgh1' });
    for (const rendition of ['source', 'audio']) expect(parseMediaPlaylist(await text(store, `streams/gone/${rendition}/index.m3u8`)).ended).toBe(true);
    expect(parseMpd(await text(store, 'streams/gone/manifest.mpd')).type).toBe('static');
    const status = JSON.parse(await text(store, 'streams/gone/status.json'));
    expect(status).toMatchObject({ state: 'ended', endedAt: NOW, updatedAt: NOW, startedAt: NOW - 120_000 });
    expect(status.lowLatency).toBeUndefined();
    expect(status.recording).toBeUndefined();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'stream.idle', data: { playbackId: 'gone' } });
    const silentSeconds = Math.round((NOW - (lease.expiresAt - LEASE_TTL_MS)) / 1000);
    expect(events[0]!.data.message).toContain(`not been heard from for ${silentSeconds} s`);
  });

  it('keeps a ready recording in the status', async () => {
    const ready = { ...liveStatus().recording, state: 'ready' };
    const store = await storeWith(liveStatus({ recording: ready }));
    await endAbandonedBroadcast('gone', lease, { store, now: () => NOW });
    expect(JSON.parse(await text(store, 'streams/gone/status.json')).recording).toEqual(ready);
  });

  it.each([
    { name: 'an ended stream', status: liveStatus({ state: 'ended' }), reason: /ended already/ },
    { name: 'a status written 10 s ago (something still writes the stream)', status: liveStatus({ updatedAt: NOW - 10_000 }), reason: /written 10 s ago/ },
  ])('leaves $name as it is, and reports nothing', async ({ status, reason }) => {
    const store = await storeWith(status);
    const events: WebhookEvent[] = [];
    const outcome = await endAbandonedBroadcast('gone', lease, { store, now: () => NOW, report: async (event) => events.push(event) });
    expect(outcome).toEqual({ ended: false, reason: expect.stringMatching(reason) });
    expect(await text(store, 'streams/gone/source/index.m3u8')).toBe(livePlaylist);
    expect(await text(store, 'streams/gone/manifest.mpd')).toBe(liveMpd);
    expect(events).toEqual([]);
  });

  it('leaves a stream without a status document alone', async () => {
    expect(await endAbandonedBroadcast('gone', lease, { store: new MemoryObjectStore(), now: () => NOW })).toEqual({ ended: false, reason: 'the stream has no status document' });
  });
});

describe('the hourly sweep for broadcasts left live', () => {
  it('ends a stream whose status was not written for longer than the longest reconnect window, and no other', async () => {
    const store = new MemoryObjectStore();
    await storeWith(liveStatus({ updatedAt: NOW - STALE_STATUS_MS }), store, 'stale');
    await storeWith(liveStatus({ state: 'reconnecting', updatedAt: NOW - 50 * 60_000 }), store, 'waiting');
    await storeWith(liveStatus({ state: 'ended', updatedAt: NOW - 5 * STALE_STATUS_MS }), store, 'over');
    const events: WebhookEvent[] = [];
    expect(await endStaleBroadcasts({ store, now: () => NOW, report: async (event) => events.push(event) })).toEqual(['stale']);
    expect(parseMediaPlaylist(await text(store, 'streams/stale/source/index.m3u8')).ended).toBe(true);
    expect(await text(store, 'streams/waiting/source/index.m3u8')).toBe(livePlaylist);
    expect(JSON.parse(await text(store, 'streams/waiting/status.json')).state).toBe('reconnecting');
    expect(events.map((event) => [event.type, event.data.playbackId, event.data.message])).toEqual([['stream.idle', 'stale', expect.stringContaining(`not been written for ${Math.round(STALE_STATUS_MS / 60_000)} min`)]]);
  });

  it('goes round every stream in sweeps cut short by their budget', async () => {
    const store = new MemoryObjectStore();
    for (const id of ['s1', 's2', 's3']) await storeWith(liveStatus({ updatedAt: NOW - STALE_STATUS_MS }), store, id);
    const ended: string[] = [];
    for (let sweep = 0; sweep < 3; sweep++) ended.push(...(await endStaleBroadcasts({ store, now: () => NOW }, 1)));
    expect(ended.sort()).toEqual(['s1', 's2', 's3']);
  });
});

describe("the hub's watch for an abandoned broadcast", () => {
  interface Socket {
    closedWith?: number;
  }

  function watchedHub() {
    let now = NOW;
    const scheduled: number[] = [];
    const ended: Lease[] = [];
    let cancelled = 0;
    const watch: AbandonmentWatch = { schedule: (at) => void scheduled.push(at), cancel: () => void (cancelled += 1), end: async (l) => void ended.push(l) };
    const hub = new LiveChannelHub<Socket>({
      state: () => new LiveStreamState({ loadPlaylist: async () => undefined }),
      now: () => now,
      log: () => undefined,
      transport: { send: () => undefined, close: (socket, code) => (socket.closedWith = code) },
      abandonment: watch,
    });
    return { hub, scheduled, ended, cancelled: () => cancelled, advance: (ms: number) => (now += ms), now: () => now };
  }

  it('watches from the grant; a holder still heard from moves the watch on, one gone is ended once', async () => {
    const { hub, scheduled, ended, advance, now } = watchedHub();
    const socket: Socket = {};
    hub.open(socket, { sidecar: 'sidecar-a', broadcast: 'b1', reconnectWindowMs: 0 });
    expect(scheduled).toEqual([NOW + LEASE_TTL_MS + TAKEOVER_ALLOWANCE_MS]);
    // Heartbeats until the deadline: the lease lives on, the watch moves to its new deadline.
    for (let t = 0; t < LEASE_TTL_MS + TAKEOVER_ALLOWANCE_MS; t += 2_000) {
      advance(2_000);
      hub.message(socket, encodeMessage({ type: 'heartbeat' }));
    }
    await hub.deadlinePassed();
    expect(ended).toEqual([]);
    expect(scheduled.at(-1)).toBe(now() + LEASE_TTL_MS + TAKEOVER_ALLOWANCE_MS);
    // Silent from here (a peer gone without closing its socket): ended at the next deadline, the socket closed.
    advance(LEASE_TTL_MS + TAKEOVER_ALLOWANCE_MS);
    // Its lease ran out, its broadcast not looked at yet: the coordinator keeps this hub for it.
    expect(hub.currentLease).toBeUndefined();
    expect(hub.awaitingDeadline).toBe(true);
    await hub.deadlinePassed();
    expect(hub.awaitingDeadline).toBe(false);
    expect(ended.map((l) => l.sidecar)).toEqual(['sidecar-a']);
    expect(socket.closedWith).toBeDefined();
    expect(hub.currentLease).toBeUndefined();
    await hub.deadlinePassed();
    expect(ended).toHaveLength(1);
  });

  it('stops watching at a release (the sidecar ends its own broadcast), and ends a lease it is told of when it holds none (an evicted object)', async () => {
    const { hub, ended, cancelled, advance } = watchedHub();
    const socket: Socket = {};
    hub.open(socket, { sidecar: 'sidecar-a', broadcast: 'b1' });
    hub.message(socket, encodeMessage({ type: 'release' }));
    expect(cancelled()).toBe(1);
    expect(hub.awaitingDeadline).toBe(false);
    advance(DEFAULT_RECONNECT_WINDOW_MS + LEASE_TTL_MS + TAKEOVER_ALLOWANCE_MS);
    await hub.deadlinePassed();
    expect(ended).toEqual([]);
    const kept: Lease = { sidecar: 'sidecar-z', broadcast: 'b9', expiresAt: NOW };
    await hub.deadlinePassed(kept);
    expect(ended).toEqual([kept]);
  });
});
