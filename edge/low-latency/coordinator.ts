/**
 * Where the edge's low-latency live state lives, behind one interface: a Durable Object per
 * stream on Workers (see live-stream-object.ts), a map in this process on Node and Deno.
 */
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import { streamObjectKey } from '../../shared/storage/layout.ts';
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
