/**
 * Where the edge's low-latency live state lives, behind one interface: a Durable Object per
 * stream on Workers (see live-stream-object.ts), a map in this process on Node and Deno.
 */
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import { streamObjectKey } from '../../shared/storage/layout.ts';
import { JoinedCalls, type KeepAlive } from '../joined-calls.ts';
import { LiveStreamState, type IncomingPart, type PartAnswer, type PlaylistAnswer, type PlaylistRequest } from './live-stream-state.ts';

export interface LowLatencyCoordinator {
  acceptPart(streamId: string, rendition: string, part: IncomingPart): Promise<void>;
  acceptPlaylist(streamId: string, rendition: string, text: string): Promise<void>;
  playlist(streamId: string, request: PlaylistRequest): Promise<PlaylistAnswer>;
  part(streamId: string, rendition: string, file: string): Promise<PartAnswer>;
}

/** A rendition's stored media playlist, for live state that starts without one. */
export function storedPlaylistLoader(store: ObjectStore, streamId: string): (rendition: string) => Promise<string | undefined> {
  return async (rendition) => {
    const object = await store.get(streamObjectKey(streamId, { kind: 'media-playlist', rendition }));
    return object ? new Response(object.body).text() : undefined;
  };
}

// A stream whose state has not changed this long has ended or moved: its memory is given back.
const IDLE_EVICTION_MS = 5 * 60_000;

/** Node and Deno: every stream's live state in this process (one edge process per deployment). */
export class InProcessCoordinator implements LowLatencyCoordinator {
  private readonly streams = new Map<string, LiveStreamState>();
  private readonly store: ObjectStore;

  constructor(store: ObjectStore) {
    this.store = store;
  }

  private state(streamId: string, create: boolean): LiveStreamState | undefined {
    const now = Date.now();
    for (const [id, state] of this.streams) {
      if (now - state.lastChangeAt > IDLE_EVICTION_MS && state.held === 0) this.streams.delete(id);
    }
    let state = this.streams.get(streamId);
    if (!state && create) {
      state = new LiveStreamState({ loadPlaylist: storedPlaylistLoader(this.store, streamId) });
      this.streams.set(streamId, state);
    }
    return state;
  }

  async acceptPart(streamId: string, rendition: string, part: IncomingPart): Promise<void> {
    this.state(streamId, true)!.acceptPart(rendition, part);
  }

  async acceptPlaylist(streamId: string, rendition: string, text: string): Promise<void> {
    this.state(streamId, true)!.acceptPlaylist(rendition, text);
  }

  playlist(streamId: string, request: PlaylistRequest): Promise<PlaylistAnswer> {
    // A blocking request may come before the stream's first part (a restarted edge): it waits.
    const state = this.state(streamId, request.block !== undefined);
    return state ? state.playlist(request) : Promise.resolve({ kind: 'unknown' });
  }

  part(streamId: string, rendition: string, file: string): Promise<PartAnswer> {
    return this.state(streamId, false)?.part(rendition, file) ?? Promise.resolve({ kind: 'missing' });
  }
}

// A held wait lasts at most the hold limit (3 target durations); a joiner whose wait's request
// vanished gives up after this and asks for itself. Nobody joins a wait older than a second, so a
// vanished one can delay only those who joined it in its first second.
const WAIT_PATIENCE_MS = 20_000;
const JOIN_WITHIN_MS = 1_000;

/**
 * Makes identical waits in this isolate one call to the coordinator behind (see JoinedCalls): a
 * thousand viewers blocked on the same part of the same playlist cost the Durable Object one held
 * request. Isolate-wide; each request uses `forRequest`, a view bound to it.
 */
export class CoalescingCoordinator {
  private readonly inner: LowLatencyCoordinator;
  private readonly playlists = new JoinedCalls<PlaylistAnswer>({ joinWithinMs: JOIN_WITHIN_MS, patienceMs: WAIT_PATIENCE_MS });
  private readonly parts = new JoinedCalls<PartAnswer>({ joinWithinMs: JOIN_WITHIN_MS, patienceMs: WAIT_PATIENCE_MS });

  constructor(inner: LowLatencyCoordinator) {
    this.inner = inner;
  }

  /** The coordinator as one request sees it; `keepAlive` lets a wait it shares outlive it (Workers' waitUntil). */
  forRequest(keepAlive?: KeepAlive): LowLatencyCoordinator {
    return {
      acceptPart: (streamId, rendition, part) => this.inner.acceptPart(streamId, rendition, part),
      acceptPlaylist: (streamId, rendition, text) => this.inner.acceptPlaylist(streamId, rendition, text),
      playlist: (streamId, request) => this.playlist(streamId, request, keepAlive),
      part: (streamId, rendition, file) => this.part(streamId, rendition, file, keepAlive),
    };
  }

  private playlist(streamId: string, request: PlaylistRequest, keepAlive: KeepAlive | undefined): Promise<PlaylistAnswer> {
    const block = request.block;
    const key = `${streamId}|${request.rendition}|${block ? `${block.msn}.${block.part ?? ''}` : 'now'}|${request.skip ? 1 : 0}`;
    return this.playlists.run(key, () => this.inner.playlist(streamId, request), keepAlive);
  }

  private part(streamId: string, rendition: string, file: string, keepAlive: KeepAlive | undefined): Promise<PartAnswer> {
    return this.parts.run(`${streamId}|${rendition}|${file}`, () => this.inner.part(streamId, rendition, file), keepAlive);
  }
}
