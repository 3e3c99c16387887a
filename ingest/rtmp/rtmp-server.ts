/**
 * The RTMP(S) listener: node-media-server accepts publishers; this module turns its sessions
 * into publish requests that the owner accepts or refuses, and hands over each accepted
 * stream's media as FLV bytes, read in-process (no loopback pull, no spool files).
 */
import NodeMediaServer from 'node-media-server';
import BaseSession from 'node-media-server/src/session/base_session.js';
import Context from 'node-media-server/src/core/context.js';
import nmsLogger from 'node-media-server/src/core/logger.js';

export interface PublishRequest {
  /** Empty when node-media-server refused the names' characters before asking us. */
  app: string;
  name: string;
  query: Record<string, string | string[] | undefined>;
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
  /**
   * Restarts the FLV stream handed to onData: the FLV header, the codec configuration and the
   * current GOP come again, so a new decoder (a restarted ffmpeg) can start from them.
   */
  resubscribe(): void;
}

export interface RtmpsOptions {
  port: number;
  /** Paths of PEM files. */
  certFile: string;
  keyFile: string;
}

export interface RtmpServerOptions {
  port: number;
  host: string;
  rtmps?: RtmpsOptions;
  decide(request: PublishRequest): PublishDecision;
  onListenError(error: NodeJS.ErrnoException): void;
}

/**
 * node-media-server logs every connection with its stream path, and a stream name is a stream
 * key: none of its lines may reach a log. Every accept/refuse decision is logged by the owner.
 */
function silenceNodeMediaServerLogs(): void {
  Object.assign(nmsLogger, { log: () => {} });
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
    this.nms = new NodeMediaServer({
      bind: options.host,
      rtmp: { port: options.port },
      ...(options.rtmps ? { rtmps: { port: options.rtmps.port, cert: options.rtmps.certFile, key: options.rtmps.keyFile } } : {}),
    });
    this.nms.rtmpServer.handleListenError = () => options.onListenError;

    this.nms.on('prePublish', (session) => {
      const decision = options.decide({
        // node-media-server leaves the path empty when it refused its characters.
        app: session.streamPath ? session.streamApp : '',
        name: session.streamPath ? session.streamName : '',
        query: session.streamQuery,
        remoteAddress: session.ip,
      });
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
    let tap: FlvTap | undefined;
    const subscribe = () => {
      if (tap) broadcast.donePlay(tap);
      tap = new FlvTap(session.streamPath, (flv) => handler.onData(flv));
      broadcast.postPlay(tap);
    };
    const handler = accept({ disconnect: () => socket.destroy(), resubscribe: subscribe });
    subscribe();
    socket.once('close', () => {
      if (tap) broadcast.donePlay(tap);
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
