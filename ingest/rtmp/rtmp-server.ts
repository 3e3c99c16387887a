/**
 * The RTMP listener: node-media-server accepts publishers; this module turns its sessions into
 * publish requests that the owner accepts or refuses, and hands over each accepted stream's
 * media as FLV bytes, read in-process (no loopback pull, no spool files).
 */
import NodeMediaServer from 'node-media-server';
import BaseSession from 'node-media-server/src/session/base_session.js';
import Context from 'node-media-server/src/core/context.js';
import nmsLogger from 'node-media-server/src/core/logger.js';

export interface PublishRequest {
  app: string;
  name: string;
  remoteAddress: string;
}

export interface PublishHandler {
  onData(flv: Buffer): void;
  /** The publisher disconnected (or was disconnected). */
  onEnd(): void;
}

export type PublishDecision = { accept: (control: PublishControl) => PublishHandler } | { reject: string };

export interface PublishControl {
  /** Disconnects the publisher. */
  disconnect(): void;
}

export interface RtmpServerOptions {
  port: number;
  host: string;
  decide(request: PublishRequest): PublishDecision;
  onListenError(error: NodeJS.ErrnoException): void;
}

/**
 * node-media-server logs every connection with its stream path (a stream key, once keys are
 * names) and its constructor forces the level to debug: pin its level to errors only.
 */
function silenceNodeMediaServerLogs(): void {
  Object.defineProperty(nmsLogger, 'level', { get: () => 'error', set: () => {}, configurable: true });
}

/** A subscriber of node-media-server's broadcast that passes the FLV stream to a callback. */
class FlvTap extends BaseSession {
  constructor(streamPath: string, onData: (flv: Buffer) => void) {
    super();
    this.protocol = 'flv';
    this.streamPath = streamPath;
    this.sendBuffer = onData;
  }
}

export class RtmpServer {
  private readonly nms: NodeMediaServer;
  private readonly accepted = new WeakMap<BaseSession, (control: PublishControl) => PublishHandler>();

  constructor(options: RtmpServerOptions) {
    silenceNodeMediaServerLogs();
    this.nms = new NodeMediaServer({ bind: options.host, rtmp: { port: options.port } });
    this.nms.rtmpServer.handleListenError = () => options.onListenError;

    this.nms.on('prePublish', (session) => {
      const decision = options.decide({ app: session.streamApp, name: session.streamName, remoteAddress: session.ip });
      if ('reject' in decision) {
        session.close();
        return;
      }
      this.accepted.set(session, decision.accept);
    });
    // postPublish also fires for sessions refused in prePublish: only accepted ones are tapped.
    this.nms.on('postPublish', (session) => {
      const accept = this.accepted.get(session);
      if (!accept) return;
      this.accepted.delete(session);
      this.tap(session, accept);
    });
  }

  private tap(session: BaseSession, accept: (control: PublishControl) => PublishHandler): void {
    const broadcast = Context.broadcasts.get(session.streamPath);
    const socket = session.socket;
    if (!broadcast || !socket || socket.destroyed) return;
    const handler = accept({ disconnect: () => socket.destroy() });
    const tap = new FlvTap(session.streamPath, (flv) => handler.onData(flv));
    broadcast.postPlay(tap);
    socket.once('close', () => {
      broadcast.donePlay(tap);
      handler.onEnd();
    });
  }

  listen(): void {
    this.nms.rtmpServer.run();
  }

  close(): void {
    this.nms.rtmpServer.stop();
  }
}
