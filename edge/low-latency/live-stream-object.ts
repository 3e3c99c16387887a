/**
 * Workers: each live stream's low-latency state in a Durable Object of its own (named by the
 * stream id), the one place every edge location's requests for that stream meet. The sidecar's
 * part and playlist writes reach it through the write API; viewers' blocking requests wait in
 * it, one call per held viewer: a Durable Object's requests share one I/O context, so one part's
 * write releases them all (a stateless Worker's requests must not wait on each other). Its state is memory
 * only: storage (R2) keeps the segments and playlists, and an evicted object rebuilds from the
 * next part and the stored playlist.
 */
import { DurableObject } from 'cloudflare:workers';
import { R2ObjectStore } from '../storage/r2-object-store.ts';
import { storedPlaylistLoader, type LowLatencyCoordinator } from './coordinator.ts';
import { LiveStreamState, type IncomingPart, type PartAnswer, type PlaylistAnswer, type PlaylistRequest, type RefusalCounts, type SegmentAnswer } from './live-stream-state.ts';

export interface LiveStreamObjectEnv {
  BUCKET: R2Bucket;
}

export class LiveStreamObject extends DurableObject<LiveStreamObjectEnv> {
  private live: LiveStreamState | undefined;

  /** The id is passed with every call: a Durable Object does not know the name it was made from. */
  private state(streamId: string): LiveStreamState {
    this.live ??= new LiveStreamState({ loadPlaylist: storedPlaylistLoader(new R2ObjectStore(this.env.BUCKET), streamId) });
    return this.live;
  }

  acceptPart(streamId: string, rendition: string, part: IncomingPart): void {
    this.state(streamId).acceptPart(rendition, part);
  }

  acceptPlaylist(streamId: string, rendition: string, text: string): void {
    this.state(streamId).acceptPlaylist(rendition, text);
  }

  playlist(streamId: string, request: PlaylistRequest): Promise<PlaylistAnswer> {
    return this.state(streamId).playlist(request);
  }

  part(streamId: string, rendition: string, file: string, client?: string): Promise<PartAnswer> {
    return this.state(streamId).part(rendition, file, client);
  }

  /** No state yet (an evicted object): nothing was listed from parts here, storage answers. */
  segment(_streamId: string, rendition: string, file: string): SegmentAnswer {
    return this.live?.segment(rendition, file) ?? { kind: 'missing' };
  }

  /** Refusals and held requests of this stream's state (tests; an operator's look). */
  counters(): { held: number; refusals: RefusalCounts } {
    return { held: this.live?.held ?? 0, refusals: this.live?.refusals ?? { unknownRendition: 0, streamLimit: 0, addressLimit: 0 } };
  }
}

/** The coordinator over the namespace: calls go to the stream's object. */
export class DurableObjectCoordinator implements LowLatencyCoordinator {
  private readonly namespace: DurableObjectNamespace<LiveStreamObject>;

  constructor(namespace: DurableObjectNamespace<LiveStreamObject>) {
    this.namespace = namespace;
  }

  private stub(streamId: string) {
    return this.namespace.get(this.namespace.idFromName(streamId));
  }

  async acceptPart(streamId: string, rendition: string, part: IncomingPart): Promise<void> {
    await this.stub(streamId).acceptPart(streamId, rendition, part);
  }

  async acceptPlaylist(streamId: string, rendition: string, text: string): Promise<void> {
    await this.stub(streamId).acceptPlaylist(streamId, rendition, text);
  }

  async playlist(streamId: string, request: PlaylistRequest): Promise<PlaylistAnswer> {
    return (await this.stub(streamId).playlist(streamId, request)) as PlaylistAnswer;
  }

  async part(streamId: string, rendition: string, file: string, client?: string): Promise<PartAnswer> {
    return (await this.stub(streamId).part(streamId, rendition, file, client)) as PartAnswer;
  }

  async segment(streamId: string, rendition: string, file: string): Promise<SegmentAnswer> {
    return (await this.stub(streamId).segment(streamId, rendition, file)) as SegmentAnswer;
  }

  async counters(streamId: string): Promise<{ held: number; refusals: RefusalCounts }> {
    return (await this.stub(streamId).counters()) as { held: number; refusals: RefusalCounts };
  }
}
