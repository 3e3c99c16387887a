/**
 * The RTMP(S) listener: node-media-server accepts publishers; this module turns its sessions
 * into publish requests that the owner accepts or refuses, and hands over each accepted
 * stream's media as FLV bytes, read in-process (no loopback pull, no spool files). Unless told
 * otherwise, every connection passes an RtmpConnectionGate first, and its bytes reach
 * node-media-server only through it.
 */
import type { Server as NetServer, Socket } from 'node:net';
import NodeMediaServer from 'node-media-server';
import BaseSession from 'node-media-server/src/session/base_session.js';
import Context from 'node-media-server/src/core/context.js';
import nmsLogger from 'node-media-server/src/core/logger.js';
import { broadcastFlvOnly } from './flv-only-broadcast.ts';
import { RtmpConnectionGate, type ConnectionRefusal, type GateStats, type RtmpLimits } from './connection-gate.ts';

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
  /** Refuses the publish after it was accepted (a check that took a round trip): BadName with the reason, then disconnects. */
  refuse?(reason: string): void;
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
  /** Limits on connections and on what node-media-server will allocate; none: unguarded (for measuring only). */
  limits: RtmpLimits | undefined;
  /**
   * Whether a publish may start. A promise (the platform's registry asked over the network) holds
   * the connection: nothing it sends after the publish command is read until the answer.
   */
  decide(request: PublishRequest): PublishDecision | Promise<PublishDecision>;
  /** A connection was refused by the gate (once per connection). */
  onConnectionRefused(refusal: ConnectionRefusal): void;
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
  private readonly gate: RtmpConnectionGate | undefined;
  private readonly accepted = new WeakMap<BaseSession, (control: PublishControl) => PublishHandler>();
  /** Publishes whose decision is still coming (see RtmpServerOptions.decide). */
  private readonly deciding = new WeakSet<BaseSession>();

  constructor(options: RtmpServerOptions) {
    silenceNodeMediaServerLogs();
    this.nms = new NodeMediaServer({
      bind: options.host,
      rtmp: { port: options.port },
      ...(options.rtmps ? { rtmps: { port: options.rtmps.port, cert: options.rtmps.certFile, key: options.rtmps.keyFile } } : {}),
    });
    this.nms.rtmpServer.handleListenError = () => options.onListenError;
    if (options.limits) {
      this.gate = new RtmpConnectionGate(options.limits, options.onConnectionRefused);
      this.guardConnections(this.gate);
    }

    this.nms.on('prePublish', (session) => {
      const decision = options.decide({
        // node-media-server leaves the path empty when it refused its characters.
        app: session.streamPath ? session.streamApp : '',
        name: session.streamPath ? session.streamName : '',
        query: session.streamQuery,
        remoteAddress: session.ip,
      });
      if (decision instanceof Promise) {
        this.decideLater(session, decision);
        return;
      }
      if ('reject' in decision) {
        // node-media-server has already answered NetStream.Publish.Start (it asks us after);
        // an error status after it is what publishers act on: ffmpeg prints "Server error: <description>"
        // and stops, OBS shows it, where a bare close left them with "Broken pipe".
        refusePublish(session, decision.reject);
        if (session.socket) this.gate?.publishRefused(session.socket);
        return;
      }
      this.accepted.set(session, decision.accept);
      if (session.socket) this.gate?.publishing(session.socket);
    });
    // postPublish also fires for sessions refused in prePublish: only accepted ones are tapped.
    this.nms.on('postPublish', (session) => {
      const accept = this.accepted.get(session);
      // Decided later (decideLater): node-media-server makes it the publisher now, which a refusal undoes.
      if (this.deciding.has(session)) return;
      if (!accept) {
        // node-media-server makes it the publisher right after this event.
        process.nextTick(() => forgetRefusedPublisher(session));
        return;
      }
      this.accepted.delete(session);
      this.tap(session, accept);
    });
    // The platform plays streams over HLS and DASH only; an RTMP player would be fed whatever
    // it asked for, at whatever rate it reads.
    this.nms.on('prePlay', (session) => {
      if (session.socket) this.gate?.refuseConnection(session.socket, 'play-refused', 'RTMP playback is not offered (watch over HLS or DASH)');
    });
  }

  /** A publish decided asynchronously: the connection is held (no media read) until the answer. */
  private decideLater(session: BaseSession, decision: Promise<PublishDecision>): void {
    const socket = session.socket;
    this.deciding.add(session);
    if (socket) {
      if (this.gate) this.gate.hold(socket);
      else socket.pause();
    }
    const settle = (outcome: PublishDecision) => {
      this.deciding.delete(session);
      if (!socket || socket.destroyed) return;
      if ('reject' in outcome) {
        refusePublish(session, outcome.reject);
        forgetRefusedPublisher(session);
        this.gate?.publishRefused(socket);
      } else {
        this.gate?.publishing(socket);
        this.tap(session, outcome.accept);
      }
      if (this.gate) this.gate.release(socket);
      else socket.resume();
    };
    decision.then(settle, (error: unknown) => settle({ reject: `internal error deciding the publish (${error instanceof Error ? error.message : String(error)})` }));
  }

  /** Open connections and node-media-server's message buffers; undefined when unguarded. */
  gateStats(): GateStats | undefined {
    return this.gate?.stats();
  }

  /**
   * node-media-server gave its servers `handleRequest` as their connection listener: it is
   * replaced by one that asks the gate first, and the session's reader of the socket is moved
   * behind the gate.
   */
  private guardConnections(gate: RtmpConnectionGate): void {
    const server = this.nms.rtmpServer;
    const handOver = (socket: Socket) => {
      const before = new Set(socket.listeners('data'));
      server.handleRequest(socket);
      const added = socket.listeners('data').filter((listener) => !before.has(listener));
      if (added.length !== 1) {
        // Not the node-media-server this was written for: fail closed, and say so.
        gate.refuseInternally(socket, `node-media-server attached ${added.length} data listeners, expected 1`);
        return;
      }
      const parse = added[0] as (bytes: Buffer) => void;
      socket.removeListener('data', parse);
      gate.feed(socket, parse);
      dropUnusedFlvParser(socket);
    };
    if (server.tcpServer) {
      replaceListener(server.tcpServer, 'connection', server.handleRequest, (socket: Socket) => {
        if (gate.admit(socket)) handOver(socket);
      });
    }
    if (server.tlsServer) {
      // Counted and clocked from the TCP connection, so a slow TLS handshake is one too.
      server.tlsServer.prependListener('connection', (socket: Socket) => gate.admit(socket));
      replaceListener(server.tlsServer, 'secureConnection', server.handleRequest, handOver);
    }
  }

  private tap(session: BaseSession, accept: (control: PublishControl) => PublishHandler): void {
    const broadcast = Context.broadcasts.get(session.streamPath);
    const socket = session.socket;
    if (!broadcast || !socket || socket.destroyed) return;
    // node-media-server 4.4.3 keeps a publisher that left for 30 s: a new publisher from the same
    // address "resumes" it, and our tap is first replayed the old publisher's metadata, sequence
    // headers and GOP (a new broadcast at another resolution probed as the old one and kept its
    // ladder), with its timestamps shifted past the old ones. Our pipeline has its own reconnect
    // window: the library's ends at once.
    broadcast.publishGraceMs = 0;
    // Its only subscriber is our FLV tap: no RTMP copies and GOP for players we never have.
    broadcastFlvOnly(broadcast);
    let tap: FlvTap | undefined;
    const subscribe = () => {
      if (tap) broadcast.donePlay(tap);
      tap = new FlvTap(session.streamPath, (flv) => handler.onData(flv));
      broadcast.postPlay(tap);
    };
    const handler = accept({ disconnect: () => socket.destroy(), resubscribe: subscribe, refuse: (reason) => refusePublish(session, reason) });
    subscribe();
    socket.once('close', () => {
      if (tap) broadcast.donePlay(tap);
      handler.onEnd();
    });
  }

  /**
   * Resolves once every listener (RTMP, and RTMPS when configured) is listening: nothing is
   * ready before. A listener that cannot listen goes to `onListenError` instead (and this never resolves).
   */
  listen(): Promise<void> {
    const { tcpServer, tlsServer } = this.nms.rtmpServer;
    const listening = [tcpServer, tlsServer].flatMap((server) => (server ? [new Promise<void>((resolve) => server.once('listening', () => resolve()))] : []));
    this.nms.rtmpServer.run();
    return Promise.all(listening).then(() => undefined);
  }

  close(): void {
    this.nms.rtmpServer.stop();
  }
}

/**
 * node-media-server 4.4.3 gives every RTMP session a zero-filled 1 MiB FLV parser buffer that
 * nothing reads: 400 idle connections held about 470 MB. Dropped at once, it is short-lived garbage.
 */
function dropUnusedFlvParser(socket: Socket): void {
  // The session was added last; at most --rtmp-max-connections of them to look through.
  for (const session of Context.sessions.values()) {
    if (session.socket === socket && session.rtmp) session.rtmp.flv = undefined;
  }
}

function replaceListener(server: NetServer, event: string, original: (socket: Socket) => void, replacement: (socket: Socket) => void): void {
  if (!server.listeners(event).includes(original)) {
    throw new Error(`node-media-server's ${event} listener is not where it was in 4.4.3: the RTMP gate cannot be installed`);
  }
  server.removeListener(event, original);
  server.on(event, replacement);
}

/**
 * node-media-server makes a refused publisher its stream path's publisher anyway, and keeps it
 * (with its message buffers) for a 30 s grace after it leaves: undone here.
 */
function forgetRefusedPublisher(session: BaseSession): void {
  const broadcast = Context.broadcasts.get(session.streamPath);
  if (!broadcast || broadcast.publisher !== session) return;
  broadcast.publisher = null;
  if (broadcast.subscribers.size === 0) Context.broadcasts.delete(session.streamPath);
}

/** RTMP's status for a refused publish (as nginx-rtmp and Wowza send it); a reason a person can act on. */
const PUBLISH_REFUSED_CODE = 'NetStream.Publish.BadName';

/** Tells the publisher why, on its stream, then half-closes (the gate cuts the rest). */
function refusePublish(session: BaseSession, reason: string): void {
  session.rtmp?.sendStatusMessage?.(session.rtmp.streamId ?? 0, 'error', PUBLISH_REFUSED_CODE, `publish refused: ${reason}`);
  session.close();
}
