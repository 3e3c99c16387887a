/**
 * Where the edge's low-latency live state lives, behind one interface: a Durable Object per
 * stream on Workers (see live-stream-object.ts), a map in this process on Node and Deno.
 */
import type { Context } from 'hono';
import type { UpgradeWebSocket, WSContext } from 'hono/ws';
import type { LeaseRequest } from '../../shared/live-channel-protocol.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import { streamObjectKey } from '../../shared/storage/layout.ts';
import { httpError } from '../errors.ts';
import type { HeldLimits } from './held-requests.ts';
import type { KeepAlive } from './joined-waits.ts';
import type { Lease } from './stream-lease.ts';
import { LiveChannelHub, type AbandonmentWatch } from './live-channel-hub.ts';
import { LiveStreamState, type IncomingPart, type PartAnswer, type PlaylistAnswer, type PlaylistRequest, type SegmentAnswer } from './live-stream-state.ts';

/** What a route knows of the viewer's request beyond the call itself (used where viewers' waits are joined: location-collapse.ts). */
export interface ViewerCall {
  /** Keeps this request alive while a call others joined runs (Workers' waitUntil). */
  keepAlive?: KeepAlive;
  /** The stream's target duration (its status), seconds: how long the live state may hold. */
  targetDuration?: number;
}

export interface LowLatencyCoordinator {
  acceptPart(playbackId: string, rendition: string, part: IncomingPart): Promise<void>;
  acceptPlaylist(playbackId: string, rendition: string, text: string): Promise<void>;
  /** The sidecar's live channel for a stream (a WebSocket upgrade, already authorized for it): see shared/live-channel-protocol.ts. */
  openChannel(playbackId: string, lease: LeaseRequest, c: Context): Promise<Response>;
  playlist(playbackId: string, request: PlaylistRequest, viewer?: ViewerCall): Promise<PlaylistAnswer>;
  /** `client`: the viewer's address, when the runtime tells it (held requests per address are limited). */
  part(playbackId: string, rendition: string, file: string, client?: string, viewer?: ViewerCall): Promise<PartAnswer>;
  /** A segment listed from its parts that storage does not have yet (`SESSION-T.m4s`): never held. */
  segment(playbackId: string, rendition: string, file: string): Promise<SegmentAnswer>;
}

/** A rendition's stored media playlist, for live state that starts without one. */
export function storedPlaylistLoader(store: ObjectStore, playbackId: string): (rendition: string) => Promise<string | undefined> {
  return async (rendition) => {
    const object = await store.get(streamObjectKey(playbackId, { kind: 'media-playlist', rendition }));
    return object ? new Response(object.body).text() : undefined;
  };
}

// A stream whose state has not changed this long has ended or moved: its memory is given back.
const IDLE_EVICTION_MS = 5 * 60_000;
// How often idle streams are looked for.
const EVICTION_SWEEP_MS = 10_000;

/**
 * One process holds a stream's waiting sockets cheaply (the in-process benchmark holds 10 000 on
 * one stream and releases them in a few hundred milliseconds), unlike one Durable Object.
 */
export const IN_PROCESS_HELD_LIMITS: HeldLimits = { perStream: 20_000, perAddress: 50 };

/** Node and Deno: every stream's live state in this process (one edge process per deployment). */
export interface InProcessCoordinatorOptions {
  limits?: Partial<HeldLimits>;
  /** The runtime's WebSocket upgrade (Hono's, from @hono/node-server or hono/deno); unset: no live channels. */
  upgradeWebSocket?: UpgradeWebSocket<unknown>;
  /** Ends a broadcast whose sidecar is gone (abandoned-broadcast.ts); unset: such a broadcast stays as it was left. */
  endAbandoned?: (playbackId: string, lease: Lease) => Promise<void>;
}

/** The abandonment watch of one stream in this process: a timer. */
function timerWatch(end: (lease: Lease) => Promise<void>, hub: () => LiveChannelHub<WSContext<unknown>>): AbandonmentWatch {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const cancel = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
  return {
    schedule(at) {
      cancel();
      timer = setTimeout(() => {
        timer = undefined;
        void hub().deadlinePassed();
      }, Math.max(0, at - Date.now()));
      // A pending watch does not keep the process up (Node's timers are objects; Deno's are numbers).
      if (typeof timer === 'object' && timer !== null && 'unref' in timer) (timer as { unref(): void }).unref();
    },
    cancel,
    end: (lease) => end(lease).catch((error: unknown) => console.error(`edge: ending an abandoned broadcast failed: ${error instanceof Error ? error.message : String(error)}`)),
  };
}

export class InProcessCoordinator implements LowLatencyCoordinator {
  private readonly streams = new Map<string, LiveStreamState>();
  /** Each stream's live channels and lease: kept apart from its state, which may be evicted while idle. */
  private readonly channels = new Map<string, LiveChannelHub<WSContext<unknown>>>();
  private readonly store: ObjectStore;
  private readonly limits: HeldLimits;
  private readonly upgradeWebSocket: UpgradeWebSocket<unknown> | undefined;
  private readonly endAbandoned: InProcessCoordinatorOptions['endAbandoned'];
  private lastSweep = 0;

  constructor(store: ObjectStore, options: InProcessCoordinatorOptions = {}) {
    this.store = store;
    this.limits = { ...IN_PROCESS_HELD_LIMITS, ...options.limits };
    this.upgradeWebSocket = options.upgradeWebSocket;
    this.endAbandoned = options.endAbandoned;
  }

  /** A stream's channels and lease (tests read its lease). */
  channelHub(playbackId: string): LiveChannelHub<WSContext<unknown>> {
    let hub = this.channels.get(playbackId);
    if (!hub) {
      const endAbandoned = this.endAbandoned;
      const made: LiveChannelHub<WSContext<unknown>> = new LiveChannelHub<WSContext<unknown>>({
        state: () => this.state(playbackId, true)!,
        storage: { store: this.store, playbackId },
        transport: { send: (socket, text) => socket.send(text), close: (socket, code, reason) => socket.close(code, reason) },
        ...(endAbandoned ? { abandonment: timerWatch((lease) => endAbandoned(playbackId, lease), () => made) } : {}),
      });
      hub = made;
      this.channels.set(playbackId, hub);
    }
    return hub;
  }

  async openChannel(playbackId: string, lease: LeaseRequest, c: Context): Promise<Response> {
    if (!this.upgradeWebSocket) throw httpError(501, 'this edge takes no live channels (no WebSocket support wired in)');
    const hub = this.channelHub(playbackId);
    const response = await this.upgradeWebSocket(c, {
      onOpen: (_event, socket) => {
        // Deno hands binary messages as Blobs unless told otherwise; they must stay in order, synchronously.
        if (socket.raw && typeof socket.raw === 'object' && 'binaryType' in socket.raw) (socket.raw as { binaryType: string }).binaryType = 'arraybuffer';
        hub.open(socket, lease);
      },
      onMessage: (event, socket) => {
        const data = event.data;
        if (typeof data === 'string' || data instanceof ArrayBuffer) hub.message(socket, data);
        else socket.close(4400, 'binary frames must arrive as ArrayBuffer');
      },
      onClose: (_event, socket) => hub.closed(socket),
      onError: (_event, socket) => hub.closed(socket),
    });
    return response;
  }

  private state(playbackId: string, create: boolean): LiveStreamState | undefined {
    const now = Date.now();
    // Idle streams are looked for now and then, not on every part and request (a hundred live
    // streams take ~600 parts a second).
    if (now - this.lastSweep >= EVICTION_SWEEP_MS) this.evictIdle(now);
    let state = this.streams.get(playbackId);
    if (!state && create) {
      state = new LiveStreamState({ loadPlaylist: storedPlaylistLoader(this.store, playbackId), limits: this.limits });
      this.streams.set(playbackId, state);
    }
    return state;
  }

  private evictIdle(now: number): void {
    this.lastSweep = now;
    for (const [id, state] of this.streams) {
      if (now - state.lastChangeAt > IDLE_EVICTION_MS && state.held === 0) {
        this.streams.delete(id);
        // Its channels too, unless a holder is still there (heartbeats keep a live holder's lease)
        // or a gone holder's broadcast is still to be looked at (its watch would end it later,
        // over a new hub's broadcast).
        const hub = this.channels.get(id);
        if (!hub?.currentLease && !hub?.awaitingDeadline) this.channels.delete(id);
      }
    }
  }

  async acceptPart(playbackId: string, rendition: string, part: IncomingPart): Promise<void> {
    this.state(playbackId, true)!.acceptPart(rendition, part);
  }

  async acceptPlaylist(playbackId: string, rendition: string, text: string): Promise<void> {
    this.state(playbackId, true)!.acceptPlaylist(rendition, text);
  }

  /** The state of a stream, when it has one (tests and metrics read its counters). */
  stream(playbackId: string): LiveStreamState | undefined {
    return this.streams.get(playbackId);
  }

  playlist(playbackId: string, request: PlaylistRequest): Promise<PlaylistAnswer> {
    // A blocking request may come before the stream's first part (a restarted edge): it waits,
    // for a rendition the stream's status lists (any other is refused by the state at once).
    const state = this.state(playbackId, request.block !== undefined || request.listed === true);
    if (state) return state.playlist(request);
    return Promise.resolve(request.block ? { kind: 'no-such-rendition' } : { kind: 'unknown' });
  }

  part(playbackId: string, rendition: string, file: string, client?: string): Promise<PartAnswer> {
    return this.state(playbackId, false)?.part(rendition, file, client) ?? Promise.resolve({ kind: 'missing' });
  }

  async segment(playbackId: string, rendition: string, file: string): Promise<SegmentAnswer> {
    return this.state(playbackId, false)?.segment(rendition, file) ?? { kind: 'missing' };
  }
}
