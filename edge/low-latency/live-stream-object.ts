/**
 * Workers: each live stream's low-latency state in a Durable Object of its own (named by the
 * stream id), the one place every edge location's requests for that stream meet. The sidecar's
 * parts reach it over the stream's live channel (a WebSocket it accepts; the stream's lease
 * lives with it), and its playlists through the write API; viewers' blocking requests wait in
 * it, one call per held viewer: a Durable Object's requests share one I/O context, so one part's
 * write releases them all (a stateless Worker's requests must not wait on each other). Its state is memory
 * only: storage (R2) keeps the segments and playlists, and an evicted object rebuilds from the
 * next part and the stored playlist. A segment the sidecar names by its parts is written to R2
 * from here (this object's own binding), from the parts it holds (live-channel-hub.ts).
 */
import { DurableObject } from 'cloudflare:workers';
import type { Context } from 'hono';
import { LIVE_CHANNEL_PREFIX, liveChannelPath, parseLeaseRequest, type LeaseRequest } from '../../shared/live-channel-protocol.ts';
import { R2ObjectStore } from '../storage/r2-object-store.ts';
import { storedPlaylistLoader, type LowLatencyCoordinator } from './coordinator.ts';
import { LiveChannelHub } from './live-channel-hub.ts';
import type { Lease } from './stream-lease.ts';
import { abandonedBroadcastEnder } from '../runtime/broadcast-ending.ts';
import { workerBroadcastEndingPlatform } from '../runtime/workers-webhooks.ts';
import type { Env } from '../runtime/workers-app.ts';
import { LiveStreamState, type IncomingPart, type PartAnswer, type PlaylistAnswer, type PlaylistRequest, type RefusalCounts, type SegmentAnswer } from './live-stream-state.ts';

export interface ObjectCounters {
  held: number;
  refusals: RefusalCounts;
  calls: { playlist: number; part: number };
}

export type LiveStreamObjectEnv = Pick<Env, 'BUCKET'> & Partial<Env>;

/** What the object keeps in its storage for its alarm: the lease it watches, and for which stream (an object does not know its name). */
interface AbandonmentRecord {
  playbackId: string;
  lease: Lease;
}
const ABANDONMENT_KEY = 'abandonment';

export class LiveStreamObject extends DurableObject<LiveStreamObjectEnv> {
  private live: LiveStreamState | undefined;
  private hub: LiveChannelHub<WebSocket> | undefined;
  /** Viewers' calls taken (playlists, parts): what the object spends on viewers, whatever joined them before. */
  private readonly calls = { playlist: 0, part: 0 };

  private channels(playbackId: string): LiveChannelHub<WebSocket> {
    this.hub ??= new LiveChannelHub<WebSocket>({
      state: () => this.state(playbackId),
      // A broadcast whose sidecar is gone is ended from here, at an alarm: it outlives this
      // object's memory (an object with no channel and no viewers may be evicted before then).
      abandonment: {
        // A storage failure here leaves the broadcast to the hourly sweep (abandoned-broadcast.ts).
        schedule: (at, lease) => {
          void this.ctx.storage
            .put(ABANDONMENT_KEY, { playbackId, lease } satisfies AbandonmentRecord)
            .then(() => this.ctx.storage.setAlarm(at))
            .catch((error: unknown) => console.error(`edge: stream ${playbackId}: could not set its abandonment alarm: ${String(error)}`));
        },
        cancel: () => {
          void this.ctx.storage
            .deleteAlarm()
            .then(() => this.ctx.storage.delete(ABANDONMENT_KEY))
            .catch((error: unknown) => console.error(`edge: stream ${playbackId}: could not clear its abandonment alarm: ${String(error)}`));
        },
        end: (lease) => this.endBroadcast(playbackId, lease),
      },
      // Segments named by their parts go to R2 from here, through this object's own binding.
      storage: { store: new R2ObjectStore(this.env.BUCKET), playbackId },
      transport: {
        send: (socket, text) => socket.send(text),
        close: (socket, code, reason) => {
          try {
            socket.close(code, reason);
          } catch {
            // Already closed.
          }
        },
      },
    });
    return this.hub;
  }

  /**
   * The sidecar's live channel (a WebSocket upgrade the Worker authorized for this stream),
   * accepted in memory rather than with the Hibernation API: parts come every third of a second,
   * so a live stream's object never sleeps, and hibernation would only add a dispatched event
   * per message (and the lease's trip through socket attachments). Under `wrangler dev` on a
   * loaded machine the two showed no clear difference in e2e; this is the simpler one.
   */
  override async fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const playbackId = decodeURIComponent(url.pathname.slice(LIVE_CHANNEL_PREFIX.length));
    const lease = parseLeaseRequest(url);
    // Only the Worker reaches this object: its closeAt is the checked credential's expiry (DurableObjectCoordinator.openChannel).
    const closeAt = Number(url.searchParams.get('closeAt'));
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket' || !lease.ok || !url.pathname.startsWith(LIVE_CHANNEL_PREFIX)) {
      return new Response('a live channel is a WebSocket upgrade', { status: 426 });
    }
    const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
    server.accept();
    // Binary messages as ArrayBuffers (not Blobs): each is handled synchronously, in order.
    (server as unknown as { binaryType: string }).binaryType = 'arraybuffer';
    const hub = this.channels(playbackId);
    server.addEventListener('message', (event) => {
      const data = event.data as unknown;
      if (typeof data === 'string' || data instanceof ArrayBuffer) hub.message(server, data);
      else hub.message(server, 'not a frame');
    });
    server.addEventListener('close', () => hub.closed(server));
    server.addEventListener('error', () => hub.closed(server));
    hub.open(server, { ...lease.lease, ...(Number.isFinite(closeAt) && closeAt > 0 ? { closeAt } : {}) });
    return new Response(null, { status: 101, webSocket: client });
  }

  override async alarm(): Promise<void> {
    const record = await this.ctx.storage.get<AbandonmentRecord>(ABANDONMENT_KEY);
    if (record) await this.channels(record.playbackId).deadlinePassed(record.lease);
  }

  private async endBroadcast(playbackId: string, lease: Lease): Promise<void> {
    await this.ctx.storage.delete(ABANDONMENT_KEY);
    // The worker's own bindings: the object shares its environment.
    await abandonedBroadcastEnder(new R2ObjectStore(this.env.BUCKET), workerBroadcastEndingPlatform(this.env))(playbackId, lease).catch((error: unknown) => {
      console.error(`edge: ending the abandoned broadcast of ${playbackId} failed: ${error instanceof Error ? error.message : String(error)}`);
    });
  }

  /** The stream's lease as it stands (tests; an operator's look). */
  lease(): { sidecar: string; broadcast: string; expiresAt: number } | undefined {
    return this.hub?.currentLease;
  }

  /** The id is passed with every call: a Durable Object does not know the name it was made from. */
  private state(playbackId: string): LiveStreamState {
    this.live ??= new LiveStreamState({ loadPlaylist: storedPlaylistLoader(new R2ObjectStore(this.env.BUCKET), playbackId) });
    return this.live;
  }

  acceptPart(playbackId: string, rendition: string, part: IncomingPart): void {
    this.state(playbackId).acceptPart(rendition, part);
  }

  acceptPlaylist(playbackId: string, rendition: string, text: string): void {
    this.state(playbackId).acceptPlaylist(rendition, text);
  }

  playlist(playbackId: string, request: PlaylistRequest): Promise<PlaylistAnswer> {
    this.calls.playlist += 1;
    return this.state(playbackId).playlist(request);
  }

  part(playbackId: string, rendition: string, file: string, client?: string): Promise<PartAnswer> {
    this.calls.part += 1;
    return this.state(playbackId).part(rendition, file, client);
  }

  /** No state yet (an evicted object): nothing was listed from parts here, storage answers. */
  segment(_playbackId: string, rendition: string, file: string): SegmentAnswer {
    return this.live?.segment(rendition, file) ?? { kind: 'missing' };
  }

  /** Refusals, held requests and viewers' calls of this stream's object (tests; an operator's look). */
  counters(): ObjectCounters {
    return { held: this.live?.held ?? 0, refusals: this.live?.refusals ?? { unknownRendition: 0, streamLimit: 0, addressLimit: 0 }, calls: { ...this.calls } };
  }
}

/** The coordinator over the namespace: calls go to the stream's object. */
export class DurableObjectCoordinator implements LowLatencyCoordinator {
  private readonly namespace: DurableObjectNamespace<LiveStreamObject>;

  constructor(namespace: DurableObjectNamespace<LiveStreamObject>) {
    this.namespace = namespace;
  }

  private stub(playbackId: string) {
    return this.namespace.get(this.namespace.idFromName(playbackId));
  }

  async acceptPart(playbackId: string, rendition: string, part: IncomingPart): Promise<void> {
    await this.stub(playbackId).acceptPart(playbackId, rendition, part);
  }

  /** The stream's object takes the WebSocket itself; the sidecar's token stays here (the object gets the path and lease request only). */
  openChannel(playbackId: string, lease: LeaseRequest, c: Context): Promise<Response> {
    const url = new URL(liveChannelPath(playbackId, lease), c.req.url);
    if (lease.closeAt !== undefined) url.searchParams.set('closeAt', String(lease.closeAt));
    return this.stub(playbackId).fetch(new Request(url, { headers: { upgrade: 'websocket' } }));
  }

  async acceptPlaylist(playbackId: string, rendition: string, text: string): Promise<void> {
    await this.stub(playbackId).acceptPlaylist(playbackId, rendition, text);
  }

  async playlist(playbackId: string, request: PlaylistRequest): Promise<PlaylistAnswer> {
    return (await this.stub(playbackId).playlist(playbackId, request)) as PlaylistAnswer;
  }

  async part(playbackId: string, rendition: string, file: string, client?: string): Promise<PartAnswer> {
    return (await this.stub(playbackId).part(playbackId, rendition, file, client)) as PartAnswer;
  }

  async segment(playbackId: string, rendition: string, file: string): Promise<SegmentAnswer> {
    return (await this.stub(playbackId).segment(playbackId, rendition, file)) as SegmentAnswer;
  }

  async counters(playbackId: string): Promise<ObjectCounters> {
    return (await this.stub(playbackId).counters()) as ObjectCounters;
  }
}
