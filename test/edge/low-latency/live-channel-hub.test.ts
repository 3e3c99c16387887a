import { afterEach, describe, expect, it, vi } from 'vitest';
import { LiveChannelHub } from '../../../edge/low-latency/live-channel-hub.ts';
import { LiveStreamState } from '../../../edge/low-latency/live-stream-state.ts';
import { CLOSE_CREDENTIAL_EXPIRED, CLOSE_LEASE_EXPIRED, encodeDocumentHeader, LEASE_TTL_MS } from '../../../shared/live-channel-protocol.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import type { PutOptions } from '../../../shared/storage/object-store.ts';

interface Socket {
  name: string;
  sent: string[];
  closedWith?: { code: number; reason: string };
}

function hubWith(now: () => number) {
  const state = new LiveStreamState({ loadPlaylist: async () => undefined });
  const hub = new LiveChannelHub<Socket>({
    state: () => state,
    now,
    log: () => undefined,
    transport: {
      send: (socket, text) => socket.sent.push(text),
      close: (socket, code, reason) => (socket.closedWith = { code, reason }),
    },
  });
  return hub;
}

const socket = (name: string): Socket => ({ name, sent: [] });

describe("a live channel's life is its write token's", () => {
  afterEach(() => vi.useRealTimers());

  it('closes the holding channel when its token expires, keeps the lease for its reopening with a new token', () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const hub = hubWith(() => Date.now());
    const first = socket('first');
    expect(hub.open(first, { sidecar: 'sidecar-a', broadcast: 'b1', closeAt: 1_000_000 + 60_000 })).toBe(true);
    vi.advanceTimersByTime(59_999);
    expect(first.closedWith).toBeUndefined();
    // Heartbeats keep the lease; they do not keep a channel past its token.
    hub.message(first, JSON.stringify({ type: 'heartbeat' }));
    vi.advanceTimersByTime(1);
    expect(first.closedWith).toEqual({ code: CLOSE_CREDENTIAL_EXPIRED, reason: expect.stringContaining('write token expired') });
    expect(hub.holds(first)).toBe(false);
    // Anything the old channel still sends is refused.
    hub.message(first, JSON.stringify({ type: 'heartbeat' }));
    expect(first.closedWith?.code).toBe(CLOSE_LEASE_EXPIRED);

    // The lease runs on: the same sidecar opens again with a new token; another sidecar is refused meanwhile.
    expect(hub.currentLease?.sidecar).toBe('sidecar-a');
    const intruder = socket('intruder');
    expect(hub.open(intruder, { sidecar: 'sidecar-b', broadcast: 'b9' })).toBe(false);
    const second = socket('second');
    expect(hub.open(second, { sidecar: 'sidecar-a', broadcast: 'b1', closeAt: Date.now() + 3_600_000 })).toBe(true);
    vi.advanceTimersByTime(LEASE_TTL_MS);
    expect(second.closedWith).toBeUndefined();
  });

  it('never closes a channel opened with the ingest secret itself (no expiry), and forgets the timer of a channel that closed', () => {
    vi.useFakeTimers({ now: 5_000_000 });
    const hub = hubWith(() => Date.now());
    const bySecret = socket('by-secret');
    hub.open(bySecret, { sidecar: 'sidecar-a', broadcast: 'b1' });
    vi.advanceTimersByTime(24 * 3_600_000);
    expect(bySecret.closedWith).toBeUndefined();

    const hub2 = hubWith(() => Date.now());
    const early = socket('early');
    hub2.open(early, { sidecar: 'sidecar-a', broadcast: 'b1', closeAt: Date.now() + 10_000 });
    hub2.closed(early);
    const next = socket('next');
    hub2.open(next, { sidecar: 'sidecar-a', broadcast: 'b1', closeAt: Date.now() + 60_000 });
    vi.advanceTimersByTime(10_000);
    expect(next.closedWith).toBeUndefined();
    vi.advanceTimersByTime(50_000);
    expect(next.closedWith?.code).toBe(CLOSE_CREDENTIAL_EXPIRED);
  });
});

describe("a stream's documents on its live channel", () => {
  const PLAYLIST = 'application/vnd.apple.mpegurl';
  const playlistText = (msn: number) => `#EXTM3U\n#EXT-X-VERSION:9\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:${msn}\n#EXTINF:2.000,\ns1-${msn * 2000}.m4s\n`;
  const frame = (id: number, path: string, text: string, contentType = PLAYLIST) => {
    const header = encodeDocumentHeader({ id, path, contentType });
    const bytes = new TextEncoder().encode(text);
    const message = new Uint8Array(header.byteLength + bytes.byteLength);
    message.set(header);
    message.set(bytes, header.byteLength);
    return message.buffer;
  };

  /** The edge's storage; a write of `slow` waits until released. */
  class Storage extends MemoryObjectStore {
    readonly order: string[] = [];
    held: (() => void) | undefined;
    refuse = false;
    override async put(key: string, body: Uint8Array | string, options: PutOptions): Promise<void> {
      if (this.refuse) throw new Error('bucket unreachable');
      const text = typeof body === 'string' ? body : new TextDecoder().decode(body);
      if (text.includes('slow')) await new Promise<void>((resolve) => (this.held = resolve));
      this.order.push(text.split('\n')[0]!);
      await super.put(key, body, options);
    }
  }

  function setUp(logged: string[] = []) {
    const state = new LiveStreamState({ loadPlaylist: async () => undefined });
    const store = new Storage();
    const hub = new LiveChannelHub<Socket>({
      state: () => state,
      storage: { store, playbackId: 'docs' },
      log: (line) => logged.push(line),
      transport: { send: (socket, text) => socket.sent.push(text), close: (socket, code, reason) => (socket.closedWith = { code, reason }) },
    });
    const holder = socket('holder');
    expect(hub.open(holder, { sidecar: 'sidecar-a', broadcast: 'b1' })).toBe(true);
    return { state, store, hub, holder };
  }
  const answers = (holder: Socket) => holder.sent.map((text) => JSON.parse(text) as { type: string }).filter((m) => m.type !== 'lease');
  const settled = () => new Promise((resolve) => setTimeout(resolve, 0));

  it('writes a media playlist to the stream prefix, gives it to the live state and answers written', async () => {
    const { state, store, hub, holder } = setUp();
    hub.message(holder, frame(4, 'source/index.m3u8', playlistText(10)));
    await settled();
    expect(answers(holder)).toEqual([{ type: 'written', id: 4 }]);
    const stored = await store.get('streams/docs/source/index.m3u8');
    expect(await new Response(stored!.body).text()).toBe(playlistText(10));
    expect(stored!.contentType).toBe(PLAYLIST);
    const answer = await state.playlist({ rendition: 'source', skip: false });
    expect(answer.kind === 'playlist' && answer.text).toContain('s1-20000.m4s');
  });

  it('writes the versions of one document in the order they came, however long the first write takes', async () => {
    const { store, hub, holder } = setUp();
    hub.message(holder, frame(1, 'manifest.mpd', '<MPD slow/>', 'application/dash+xml'));
    hub.message(holder, frame(2, 'manifest.mpd', '<MPD newer/>', 'application/dash+xml'));
    // Another document is not held up by it.
    hub.message(holder, frame(3, 'status.json', '{"state":"live"}', 'application/json'));
    await settled();
    expect(answers(holder)).toEqual([{ type: 'written', id: 3 }]);
    store.held!();
    await settled();
    await settled();
    expect(store.order).toEqual(['{"state":"live"}', '<MPD slow/>', '<MPD newer/>']);
    expect(answers(holder)).toEqual([{ type: 'written', id: 3 }, { type: 'written', id: 1 }, { type: 'written', id: 2 }]);
    expect(await new Response((await store.get('streams/docs/manifest.mpd'))!.body).text()).toBe('<MPD newer/>');
  });

  it('answers not-written when storage refuses, and when the channel lost the stream meanwhile', async () => {
    const logged: string[] = [];
    const { store, hub, holder } = setUp(logged);
    store.refuse = true;
    hub.message(holder, frame(1, 'index.m3u8', '#EXTM3U\n'));
    hub.message(holder, frame(9, 'status.json', '{}', 'application/json'));
    await settled();
    expect(answers(holder)).toEqual([
      { type: 'not-written', id: 1, reason: 'storage refused it: bucket unreachable' },
      { type: 'not-written', id: 9, reason: 'storage refused it: bucket unreachable' },
    ]);
    // The edge's log says it once, not once per write.
    expect(logged).toEqual(['edge: live channel: a write of index.m3u8 failed (storage refused it: bucket unreachable); the sidecar writes it over HTTP instead']);
    store.refuse = false;
    hub.message(holder, frame(2, 'index.m3u8', '#EXTM3U slow\n'));
    await settled();
    // Version 3 waits behind version 2's write; the stream is released meanwhile.
    hub.message(holder, frame(3, 'index.m3u8', '#EXTM3U\n'));
    hub.message(holder, JSON.stringify({ type: 'release' }));
    store.held!();
    await settled();
    await settled();
    expect(answers(holder).slice(2)).toEqual([{ type: 'written', id: 2 }, { type: 'not-written', id: 3, reason: 'this channel no longer holds the stream' }]);
  });

  it('answers a version the live state could not take not-written, and writes the next version of the path after it', async () => {
    const { state, hub, holder } = setUp();
    const accept = state.acceptPlaylist.bind(state);
    state.acceptPlaylist = () => {
      state.acceptPlaylist = accept;
      throw new Error('unreadable playlist');
    };
    hub.message(holder, frame(1, 'source/index.m3u8', playlistText(10)));
    hub.message(holder, frame(2, 'source/index.m3u8', playlistText(11)));
    await settled();
    await settled();
    expect(answers(holder)).toEqual([
      { type: 'not-written', id: 1, reason: 'the edge could not take it: unreadable playlist' },
      { type: 'written', id: 2 },
    ]);
  });

  it('closes a channel that sends a document outside the stream or of the wrong type', () => {
    const { hub, holder } = setUp();
    hub.message(holder, frame(1, '../other/index.m3u8', '#EXTM3U\n'));
    expect(holder.closedWith?.reason).toMatch(/path must name a playlist/);
    const again = setUp();
    again.hub.message(again.holder, frame(1, 'status.json', '{}'));
    expect(again.holder.closedWith?.reason).toMatch(/content type for status/);
  });
});
