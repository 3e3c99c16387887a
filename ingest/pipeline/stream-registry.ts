/**
 * The live streams of this sidecar: decides who may publish, starts a pipeline per accepted
 * publisher, ends it when the publisher leaves, and answers what is live.
 */
import type { Logger } from 'pino';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import type { IngestMetrics } from '../api/metrics.ts';
import type { PublishControl, PublishDecision, PublishRequest } from '../rtmp/rtmp-server.ts';
import type { AccessDecision, AccessPolicy } from '../streams/access-policy.ts';
import type { StreamEvents } from '../streams/event-reporter.ts';
import { CredentialWatch } from './credential-watch.ts';
import { reportingConnection } from './connection-events.ts';
import { OutputStateWatch, type OutputStatesSink, type StreamOutputs } from '../restream/output-state-watch.ts';
import { publishRequestProblem } from './publish-request-check.ts';
import { activityWatchingStore } from './activity-watch.ts';
import type { StreamPlayback } from '../streams/stream-store.ts';
import { PASSTHROUGH_ONLY, type Rendition } from '../transcode/ladder.ts';
import type { LiveJournal } from './live-journal.ts';
import type { LeaseOutcome } from '../upload/live-channel.ts';
import { leaseGatedStore } from '../upload/lease-gated-store.ts';
import { channelDocumentStore, type DocumentChannel } from '../upload/channel-documents.ts';
import { StreamPipeline, type PipelineSettings, type PipelineStats } from './stream-pipeline.ts';
import type { RestreamTarget } from '../restream/restream-target.ts';

export interface StreamRegistryOptions {
  settings: PipelineSettings;
  store: ObjectStore;
  access: AccessPolicy;
  log: Logger;
  metrics: IngestMetrics;
  /** Where open streams are recorded, so a restart after a crash can take them up. */
  journal?: LiveJournal;
  /** One writer per stream: each stream's lease at the edge (its live channel); unset: none taken. */
  leases?: StreamLeases;
  /** Told of each stream's connected/active/disconnected/idle/errored (the platform's webhooks). */
  events?: StreamEvents;
  /** Told how each stream's restream outputs are doing (the platform's management API). */
  outputStates?: OutputStatesSink;
}

export interface StreamLeases {
  /**
   * Asks for the stream; `onRefused` hears a lease lost later (another sidecar took the stream).
   * `reconnectWindowMs`: the stream's, for the edge, which ends the broadcast itself when this
   * sidecar is gone and nobody took the stream up within it.
   */
  acquire(playbackId: string, onRefused: (reason: string) => void, reconnectWindowMs: number): Promise<LeaseOutcome>;
  release(playbackId: string): void;
  /** Where the lease is a channel that carries the stream's documents too (channel-documents.ts). */
  writeDocument?: DocumentChannel['writeDocument'];
}

export interface LiveStreamInfo extends PipelineStats {
  playbackId: string;
  name: string;
}

interface LiveStream {
  name: string;
  pipeline: StreamPipeline;
  /** SHA-256 of the key its publisher came in with (keyed streams). */
  credential?: string;
  /**
   * Published with a stream key: only a publisher with that stream's key may continue it
   * (a reconnecting stream is never handed to a keyless name, in any mode).
   */
  keyed: boolean;
  /** The stream's lease at the edge, when leases are taken: its writes wait for it. */
  lease?: Promise<LeaseOutcome>;
  /** false from a publisher's connect until stream.active is reported for it (its first segment listed). */
  activeReported?: boolean;
  /** The edge gave the stream to another sidecar: this one ends it without a word to the platform's events. */
  leaseRefused?: boolean;
}

// A publisher refused after its publish was accepted reads the reason for this long.
const REFUSAL_READ_MS = 1_000;

export class StreamRegistry {
  private readonly options: StreamRegistryOptions;
  private readonly live = new Map<string, LiveStream>();
  private closed = false;

  private readonly credentialWatch: CredentialWatch;
  private readonly outputStateWatch: OutputStateWatch | undefined;

  constructor(options: StreamRegistryOptions) {
    this.options = options;
    this.credentialWatch = new CredentialWatch(
      options.access,
      {
        live: () => [...this.live.entries()].flatMap(([playbackId, stream]) => (stream.credential && stream.pipeline.hasPublisher ? [{ playbackId, credential: stream.credential }] : [])),
        drop: (playbackId, credential) => this.dropRevoked(playbackId, credential),
      },
      options.log,
    );
    this.outputStateWatch = options.outputStates && new OutputStateWatch(options.outputStates, () => this.outputsOfLiveStreams());
  }

  /** Checks the live publishers' keys now (the watch does every few seconds). */
  checkCredentials(): void {
    this.credentialWatch.check();
  }

  private dropRevoked(playbackId: string, credential: string): void {
    const stream = this.live.get(playbackId);
    // Still the publisher that was checked (not one that came since with a new key).
    if (!stream?.pipeline.hasPublisher || stream.credential !== credential) return;
    this.options.log.warn({ stream: stream.name, playbackId }, 'the stream key was rotated, or the stream disabled or removed; disconnecting its publisher');
    stream.credential = undefined;
    stream.pipeline.dropPublisher();
  }

  list(): LiveStreamInfo[] {
    return [...this.live.entries()].map(([playbackId, stream]) => ({ playbackId, name: stream.name, ...stream.pipeline.stats() }));
  }

  /** Only the outputs: the watch looks every 2 s, and a stream's full stats cost more than that needs. */
  private outputsOfLiveStreams(): StreamOutputs[] {
    return [...this.live.entries()].map(([playbackId, stream]) => ({ playbackId, outputs: stream.pipeline.outputStatus() }));
  }

  /** Disconnects the publisher of a stream and ends it (no reconnect wait); false when there is no such stream. */
  disconnect(playbackId: string): boolean {
    const stream = this.live.get(playbackId);
    if (!stream) return false;
    this.options.log.info({ stream: stream.name, playbackId }, 'disconnecting the publisher and ending the stream (operator request)');
    void stream.pipeline.end();
    return true;
  }

  /** The ffmpeg process of a live stream's current encoder run. */
  ffmpegPid(playbackId: string): number | undefined {
    return this.live.get(playbackId)?.pipeline.ffmpegPid;
  }

  decide(request: PublishRequest): PublishDecision | Promise<PublishDecision> {
    const { log, metrics } = this.options;
    const refuse = (reason: string, code: string): PublishDecision => {
      // Never the stream name here: it may be a key, right or wrong.
      log.warn({ app: request.app, remote: request.remoteAddress }, `publish refused: ${reason}`);
      metrics.publishesRefused.inc({ reason: code });
      return { reject: reason };
    };
    if (this.closed) return refuse('the sidecar is shutting down', 'shutting-down');
    const problem = publishRequestProblem(request);
    if (problem) return refuse(problem.reason, problem.code);

    // node-media-server ends a second publisher of the same stream name (key) at once, before an
    // answer from the network could come: a stream known to be live is refused now, saying why.
    const known = this.options.access.known?.(request.name);
    if (known && !('refuse' in known) && this.live.get(known.playbackId)?.pipeline.hasPublisher) return refuse(`stream "${known.name}" already has a publisher`, 'already-live');
    const access = this.options.access.resolve(request.name);
    // The platform's registry answers over the network: the connection waits (RtmpServer holds it).
    if (access instanceof Promise) return access.then((decided) => this.decideWith(request, decided, refuse));
    return this.decideWith(request, access, refuse);
  }

  private decideWith(request: PublishRequest, access: AccessDecision, refuse: (reason: string, code: string) => PublishDecision): PublishDecision {
    const { log } = this.options;
    if (this.closed) return refuse('the sidecar is shutting down', 'shutting-down');
    if ('refuse' in access) return refuse(access.refuse, access.code ?? (access.refuse === 'unknown stream key' ? 'unknown-key' : 'invalid-name'));
    const { playbackId, name, playback, credential, reconnectWindowSeconds, retention, recording, recordingDays, outputs } = access;
    const existingStream = this.live.get(playbackId);
    if (existingStream && existingStream.keyed !== (credential !== undefined)) {
      // A keyless name that happens to be a keyed stream's id (its public playback id): never
      // a way into that stream, live or reconnecting.
      return refuse(`stream "${playbackId}" publishes only with its stream key`, 'unknown-key');
    }
    const existing = existingStream?.pipeline;
    if (existing?.hasPublisher) return refuse(`stream "${name}" already has a publisher`, 'already-live');
    if (existing && existing.state !== 'reconnecting') {
      return refuse(`stream "${name}" is still closing its previous connection; publish again in a moment`, 'busy');
    }

    return {
      accept: (control) => {
        let pipeline = existing;
        if (!pipeline) {
          const streamLog = log.child({ stream: name, playbackId });
          streamLog.info({ remote: request.remoteAddress }, 'publish started');
          pipeline = this.newPipeline(playbackId, name, streamLog, { playback, keyed: credential !== undefined, reconnectWindowSeconds, retention, recording, recordingDays, outputs });
        }
        const handler = pipeline.attach(control);
        // The key this publisher came in with: checked again when the store changes.
        const live = this.live.get(playbackId);
        if (live) live.credential = credential;
        void live?.lease?.then((outcome) => {
          if (!outcome.ok && this.live.get(playbackId) === live) this.leaseRefused(playbackId, outcome.reason, control);
        });
        const events = this.options.events;
        if (!events) return handler;
        if (live) live.activeReported = false;
        return reportingConnection(handler, events, { playbackId, ...(credential ? { name } : {}) }, live?.lease);
      },
    };
  }

  /**
   * After a crash: every stream the journal says was open waits for its publisher for the
   * reconnect window, continuing from what storage holds, and ends properly if nobody comes.
   */
  resumeAfterRestart(): number {
    const entries = this.options.journal?.list() ?? [];
    for (const entry of entries) {
      if (this.live.has(entry.playbackId)) continue;
      const streamLog = this.options.log.child({ stream: entry.name, playbackId: entry.playbackId });
      streamLog.warn('the stream was open when the sidecar stopped without ending it; waiting for its publisher');
      // A journal from before ladders were recorded: those streams had the passthrough pair.
      // A journal from before `keyed` was recorded: a signed or still configured stream was keyed.
      const keyed = entry.keyed ?? (entry.playback === 'signed' || this.options.access.isConfigured(entry.playbackId));
      this.newPipeline(entry.playbackId, entry.name, streamLog, { renditions: entry.renditions ?? PASSTHROUGH_ONLY, playback: entry.playback ?? 'public', keyed }, true).awaitReconnect();
    }
    return entries.length;
  }

  /**
   * The edge gave the stream to another sidecar (at the open, or later): the publisher is refused
   * as any other (BadName with the reason), and the stream ends here without writing (its writes
   * are refused: lease-gated-store.ts).
   */
  private leaseRefused(playbackId: string, reason: string, control?: PublishControl): void {
    const stream = this.live.get(playbackId);
    if (!stream) return;
    stream.leaseRefused = true;
    this.options.log.warn({ stream: stream.name, playbackId }, `publish refused: ${reason}`);
    this.options.metrics.publishesRefused.inc({ reason: 'lease-held' });
    if (!control?.refuse) {
      stream.pipeline.dropPublisher();
      void stream.pipeline.end();
      return;
    }
    control.refuse(reason);
    // The publisher gets a moment to read why before its connection is cut (ending disconnects).
    setTimeout(() => void stream.pipeline.end(), REFUSAL_READ_MS).unref();
  }

  private newPipeline(
    playbackId: string,
    name: string,
    log: Logger,
    known: { renditions?: readonly Rendition[]; playback: StreamPlayback; keyed: boolean; reconnectWindowSeconds?: number | null; retention?: 'window' | 'all' | null; recording?: boolean | null; recordingDays?: number | null; outputs?: readonly RestreamTarget[] },
    /** From this sidecar's journal (it was open here): its stored live playlists are its own to continue. */
    resumed = false,
  ): StreamPipeline {
    const reconnectWindowMs = known.reconnectWindowSeconds != null ? known.reconnectWindowSeconds * 1000 : this.options.settings.reconnectWindowMs;
    const lease = this.options.leases?.acquire(playbackId, (reason) => this.leaseRefused(playbackId, reason), reconnectWindowMs);
    const events = this.options.events;
    const subject = { playbackId, ...(known.keyed ? { name } : {}) };
    const leases = this.options.leases;
    const written = leases?.writeDocument ? channelDocumentStore(this.options.store, { writeDocument: leases.writeDocument.bind(leases) }) : this.options.store;
    const store = lease ? leaseGatedStore(written, lease) : written;
    const pipeline = new StreamPipeline({
      ...this.options.settings,
      // The stream's own settings in the platform registry, over the sidecar's flags.
      reconnectWindowMs,
      ...(known.retention != null ? { retention: known.retention } : {}),
      ...(known.recording != null ? { recording: known.recording } : {}),
      ...(known.recordingDays != null ? { recordingDays: known.recordingDays } : {}),
      // A new publish takes over what another sidecar left live only within the stream's
      // reconnect window (restore.ts, continuesStoredBroadcast): after that it is a new broadcast.
      ...(resumed ? {} : { takeOverWithinMs: reconnectWindowMs }),
      onProblem: events ? (code, message) => events.errored(subject, code, message) : undefined,
      // stream.recording.ready: the broadcast's recording is complete and its documents stored.
      onRecordingReady: (recording) => {
        log.info({ recording: recording.recordingId, seconds: recording.durationSeconds, bytes: recording.bytes }, 'recording ready');
        events?.recordingReady?.(subject, { id: recording.recordingId, startedAt: recording.startedAt, endedAt: recording.endedAt!, durationSeconds: recording.durationSeconds, bytes: recording.bytes });
      },
      renditions: known.renditions,
      outputs: known.outputs,
      playback: known.playback,
      onLadder: (ladder) => this.options.journal?.record(playbackId, name, { renditions: ladder }),
      playbackId,
      // stream.active: the first media playlist listing a segment after a publisher connected.
      store: events
        ? activityWatchingStore(store, () => {
            const live = this.live.get(playbackId);
            if (!live || live.activeReported !== false || !live.pipeline.hasPublisher) return;
            live.activeReported = true;
            events.report('stream.active', subject);
          })
        : store,
      log,
      metrics: this.options.metrics,
      onEnded: () => {
        // Ended here because another sidecar holds the stream: it is not idle (that one reports).
        const refused = this.live.get(playbackId)?.pipeline === pipeline && this.live.get(playbackId)?.leaseRefused === true;
        if (this.live.get(playbackId)?.pipeline === pipeline) {
          this.live.delete(playbackId);
          this.options.journal?.remove(playbackId);
          this.options.leases?.release(playbackId);
          this.outputStateWatch?.ended(playbackId);
        }
        this.options.metrics.streamsLive.set(this.live.size);
        log.info('stream ended');
        // The reconnect window passed (or there was none): the stream is over.
        if (!refused) events?.report('stream.idle', subject);
      },
    });
    this.live.set(playbackId, { name, pipeline, keyed: known.keyed, lease });
    this.options.journal?.record(playbackId, name, { playback: known.playback, keyed: known.keyed });
    this.options.metrics.streamsLive.set(this.live.size);
    return pipeline;
  }

  /** Refreshes per-stream gauges (called when metrics are scraped). */
  updateGauges(): void {
    for (const stream of this.list()) this.options.metrics.encodeSpeed.set({ stream: stream.playbackId }, stream.encodeSpeed);
  }

  /** Refuses new publishers and ends every live stream. */
  async close(): Promise<void> {
    this.closed = true;
    this.credentialWatch.stop();
    this.outputStateWatch?.stop();
    await Promise.all([...this.live.values()].map((stream) => stream.pipeline.finish()));
  }
}
