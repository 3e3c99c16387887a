/**
 * The live streams of this sidecar: decides who may publish, starts a pipeline per accepted
 * publisher, and ends it when the publisher leaves.
 */
import type { Logger } from 'pino';
import { isStreamId } from '../../shared/stream-id.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import type { PublishDecision, PublishRequest } from '../rtmp/rtmp-server.ts';
import { StreamPipeline, type PipelineSettings } from './stream-pipeline.ts';

/** RTMP applications that publish streams; `stream` is the blog's name for `live`. */
export const PUBLISH_APPLICATIONS: readonly string[] = ['live', 'stream'];

export interface StreamRegistryOptions {
  settings: PipelineSettings;
  store: ObjectStore;
  log: Logger;
}

export class StreamRegistry {
  private readonly options: StreamRegistryOptions;
  private readonly live = new Map<string, StreamPipeline>();
  private closed = false;

  constructor(options: StreamRegistryOptions) {
    this.options = options;
  }

  get liveStreamIds(): string[] {
    return [...this.live.keys()];
  }

  decide(request: PublishRequest): PublishDecision {
    const log = this.options.log;
    const refuse = (reason: string): PublishDecision => {
      log.warn({ app: request.app, remote: request.remoteAddress }, `publish refused: ${reason}`);
      return { reject: reason };
    };
    if (this.closed) return refuse('the sidecar is shutting down');
    if (!PUBLISH_APPLICATIONS.includes(request.app)) {
      return refuse(`unknown application "${request.app}" (publish to /${PUBLISH_APPLICATIONS[0]}/NAME)`);
    }
    const streamId = request.name;
    if (!isStreamId(streamId)) return refuse('stream name must be 1-64 letters, digits, "-" or "_"');
    if (this.live.has(streamId)) return refuse(`stream ${streamId} already has a publisher`);

    return {
      accept: (control) => {
        const streamLog = log.child({ stream: streamId });
        const pipeline = new StreamPipeline({
          ...this.options.settings,
          streamId,
          store: this.options.store,
          log: streamLog,
          onFailure: () => control.disconnect(),
        });
        this.live.set(streamId, pipeline);
        streamLog.info({ session: pipeline.session, remote: request.remoteAddress }, 'publish started');
        return {
          onData: (flv) => pipeline.write(flv),
          onEnd: () => {
            streamLog.info('publisher left; ending the stream');
            void pipeline.finish().then(() => {
              if (this.live.get(streamId) === pipeline) this.live.delete(streamId);
              streamLog.info('stream ended');
            });
          },
        };
      },
    };
  }

  /** Refuses new publishers and ends every live stream. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.live.values()].map((pipeline) => pipeline.finish()));
  }
}
