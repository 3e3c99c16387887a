import { afterEach, describe, expect, it, vi } from 'vitest';
import { LiveChannelHub } from '../../../edge/low-latency/live-channel-hub.ts';
import { LiveStreamState } from '../../../edge/low-latency/live-stream-state.ts';
import { CLOSE_CREDENTIAL_EXPIRED, CLOSE_LEASE_EXPIRED, LEASE_TTL_MS } from '../../../shared/live-channel-protocol.ts';

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
