/**
 * What stands between the RTMP port and node-media-server: counts connections (in total and per
 * source), gives each one a clock (handshake, then publish), and reads every byte a peer sends
 * with an RtmpChunkGuard before node-media-server's parser may see it. A connection that breaks a
 * limit is destroyed, and reported once.
 */
import type { Socket } from 'node:net';
import { ByteBudget } from './byte-budget.ts';
import { RtmpChunkGuard, type ChunkGuardLimits, type GuardViolationReason } from './chunk-guard.ts';
import { ConnectionCounter, type ConnectionCounterLimits } from './connection-counter.ts';

export interface RtmpLimits extends ChunkGuardLimits, ConnectionCounterLimits {
  /** node-media-server's message buffers of all connections together, bytes. */
  maxTotalMemory: number;
  /** From connecting to the end of the RTMP handshake (the TLS handshake included for RTMPS). */
  handshakeTimeoutMs: number;
  /** From connecting to an accepted publish. */
  publishTimeoutMs: number;
}

export type RefusalReason =
  | GuardViolationReason
  | 'connection-limit'
  | 'per-ip-limit'
  | 'handshake-timeout'
  | 'publish-timeout'
  /** node-media-server threw on what the peer sent (a bogus AMF command, say). */
  | 'malformed-message'
  | 'play-refused'
  /** Dropped, still not publishing, to make room for a newer connection at the connection limit. */
  | 'evicted'
  /** The gate could not be put in front of node-media-server (not the version it was written for). */
  | 'internal-error';

export interface ConnectionRefusal {
  reason: RefusalReason;
  detail: string;
  /** `address:port` of the peer. */
  remote: string;
  /** The TCP connection's number since the sidecar started: a peer's port is reused by later connections, this is not. */
  connection: number;
}

export interface GateStats {
  connections: number;
  /** node-media-server's message buffers of all connections, bytes. */
  parserMemory: number;
}

// After a refused publish node-media-server only half-closes; the peer gets this long to go.
const REFUSED_PUBLISH_LINGER_MS = 1000;

interface Connection {
  id: number;
  key: string;
  remote: string;
  source: string;
  transport: Socket;
  /** The socket node-media-server reads: the transport itself, or the TLS socket over it. */
  reader?: Socket;
  guard: RtmpChunkGuard;
  publishing: boolean;
  handshakeTimer: NodeJS.Timeout;
  publishTimer: NodeJS.Timeout;
  lingerTimer?: NodeJS.Timeout;
  /** node-media-server gets no more bytes of it. */
  stopped: boolean;
  /**
   * A publish is being decided elsewhere (the platform's registry, asked over the network): bytes
   * that came after it wait here, the socket paused, until it is accepted or refused.
   */
  held?: { bytes: Buffer[]; resume?: () => void };
  /** Refused by the gate (and reported). */
  refused: boolean;
  closed: boolean;
}

export class RtmpConnectionGate {
  private readonly limits: RtmpLimits;
  private readonly onRefused: (refusal: ConnectionRefusal) => void;
  private readonly counter: ConnectionCounter;
  private readonly budget: ByteBudget;
  /** By peer address, peer port and local port: one TCP connection, known to the TLS socket over it too. */
  private readonly connections = new Map<string, Connection>();
  private acceptedConnections = 0;

  constructor(limits: RtmpLimits, onRefused: (refusal: ConnectionRefusal) => void) {
    this.limits = limits;
    this.onRefused = onRefused;
    this.counter = new ConnectionCounter(limits);
    this.budget = new ByteBudget(limits.maxTotalMemory);
  }

  stats(): GateStats {
    return { connections: this.counter.open, parserMemory: this.budget.used };
  }

  /**
   * A TCP connection was accepted: counts it and starts its clocks, or destroys it when it is one
   * too many. Returns whether it was admitted.
   */
  admit(transport: Socket): boolean {
    const key = connectionKey(transport);
    if (!key || !transport.remoteAddress) {
      // Already gone (reset before it was accepted).
      transport.destroy();
      return false;
    }
    const remote = `${transport.remoteAddress}:${transport.remotePort}`;
    const id = ++this.acceptedConnections;
    let admission = this.counter.admit(transport.remoteAddress);
    if (!admission.admitted && admission.reason === 'connection-limit' && this.evictOldestUnpublished()) {
      admission = this.counter.admit(transport.remoteAddress);
    }
    if (!admission.admitted) {
      transport.destroy();
      const limit = admission.reason === 'connection-limit' ? `${this.limits.maxConnections} connections` : `${this.limits.maxConnectionsPerSource} connections from one address`;
      this.onRefused({ reason: admission.reason, detail: `already ${limit}`, remote, connection: id });
      return false;
    }
    const { handshakeTimeoutMs, publishTimeoutMs } = this.limits;
    const connection: Connection = {
      id,
      key,
      remote,
      source: admission.source,
      transport,
      guard: new RtmpChunkGuard(this.limits, this.budget),
      publishing: false,
      handshakeTimer: setTimeout(() => this.refuse(connection, 'handshake-timeout', `no RTMP handshake within ${handshakeTimeoutMs / 1000} s`), handshakeTimeoutMs),
      publishTimer: setTimeout(() => this.refuse(connection, 'publish-timeout', `no accepted publish within ${publishTimeoutMs / 1000} s`), publishTimeoutMs),
      stopped: false,
      refused: false,
      closed: false,
    };
    this.connections.set(key, connection);
    transport.once('close', () => this.forget(connection));
    return true;
  }

  /**
   * Puts the guard in front of `parse`, node-media-server's reader of this connection's bytes
   * (which the caller has taken off `reader`): only bytes the guard passes reach it.
   */
  feed(reader: Socket, parse: (bytes: Buffer) => void): void {
    const connection = this.connectionOf(reader);
    if (!connection) {
      reader.destroy();
      return;
    }
    connection.reader = reader;
    // A TLS socket can be closed without its transport (a TLS alert): count that as the end too.
    if (reader !== connection.transport) reader.once('close', () => this.forget(connection));
    const pass = (bytes: Buffer) => {
      let rest = bytes;
      while (rest.length > 0 && !connection.stopped) {
        if (connection.held) {
          // Not a byte past the publish command before the publish is decided (release passes them on).
          connection.held.bytes.push(rest);
          reader.pause();
          connection.held.resume ??= () => {
            const waiting = Buffer.concat(connection.held?.bytes ?? []);
            connection.held = undefined;
            reader.resume();
            if (waiting.length > 0) pass(waiting);
          };
          return;
        }
        const verdict = connection.guard.inspect(rest);
        if ('violation' in verdict) {
          this.refuse(connection, verdict.violation.reason, verdict.violation.detail);
          return;
        }
        if (verdict.passed === 0) {
          // The guard always reads at least a byte; anything else is a bug of ours: fail closed.
          this.refuse(connection, 'internal-error', 'the chunk guard made no progress');
          return;
        }
        if (connection.guard.handshakeComplete) clearTimeout(connection.handshakeTimer);
        try {
          // May accept a publish (and so let the guard pass media) before the rest is read.
          parse(verdict.passed === rest.length ? rest : rest.subarray(0, verdict.passed));
        } catch (error) {
          this.refuse(connection, 'malformed-message', `node-media-server could not handle it (${describeError(error)})`);
          return;
        }
        rest = rest.subarray(verdict.passed);
      }
    };
    reader.on('data', pass);
  }

  /** A publish waits for a decision: nothing more of the connection reaches node-media-server until release. */
  hold(reader: Socket): void {
    const connection = this.connectionOf(reader);
    if (connection) connection.held ??= { bytes: [] };
  }

  /** The publish was decided (call publishing or publishRefused first): what waited is passed on. */
  release(reader: Socket): void {
    const connection = this.connectionOf(reader);
    if (!connection?.held) return;
    const { resume } = connection.held;
    if (resume) resume();
    else connection.held = undefined;
  }

  /** The connection's publish was accepted: media may come, the publish clock stops. */
  publishing(reader: Socket): void {
    const connection = this.connectionOf(reader);
    if (!connection) return;
    connection.publishing = true;
    connection.guard.allowPublishing();
    clearTimeout(connection.handshakeTimer);
    clearTimeout(connection.publishTimer);
  }

  /**
   * The connection's publish was refused (and reported by whoever refused it): it gets nothing
   * more through, and goes soon.
   */
  publishRefused(reader: Socket): void {
    const connection = this.connectionOf(reader);
    if (!connection) return;
    connection.stopped = true;
    clearTimeout(connection.publishTimer);
    connection.lingerTimer = setTimeout(() => connection.transport.destroy(), REFUSED_PUBLISH_LINGER_MS);
  }

  /** Refuses the connection for a reason found outside the gate (a play request, say). */
  refuseConnection(reader: Socket, reason: RefusalReason, detail: string): void {
    const connection = this.connectionOf(reader);
    if (connection) this.refuse(connection, reason, detail);
    else reader.destroy();
  }

  /**
   * At the connection limit, the oldest connection that is not publishing makes room: a publisher
   * needs well under a second from connecting to publishing, so connections held open by a peer
   * that never publishes cannot keep publishers out (they can only take each other's places).
   */
  private evictOldestUnpublished(): boolean {
    // In the order they connected; publishers are few, so the search ends early.
    for (const connection of this.connections.values()) {
      if (connection.publishing || connection.refused) continue;
      if (connection.stopped) {
        // Its publish was refused (and reported): it was going anyway.
        connection.transport.destroy();
      } else {
        this.refuse(connection, 'evicted', `dropped for a newer connection: ${this.limits.maxConnections} connections open and this one not publishing`);
      }
      // Its socket closes later; its place is free now.
      this.forget(connection);
      return true;
    }
    return false;
  }

  /** A connection the server cannot serve after all (an internal fault): refused like any other. */
  refuseInternally(socket: Socket, detail: string): void {
    const key = connectionKey(socket);
    const connection = key === undefined ? undefined : this.connections.get(key);
    if (connection) this.refuse(connection, 'internal-error', detail);
    else socket.destroy();
  }

  private refuse(connection: Connection, reason: RefusalReason, detail: string): void {
    // Once per connection, whatever else goes wrong with it afterwards.
    if (connection.refused || connection.closed) return;
    connection.refused = true;
    connection.stopped = true;
    connection.reader?.destroy();
    connection.transport.destroy();
    this.onRefused({ reason, detail, remote: connection.remote, connection: connection.id });
  }

  private forget(connection: Connection): void {
    if (connection.closed) return;
    connection.closed = true;
    connection.stopped = true;
    clearTimeout(connection.handshakeTimer);
    clearTimeout(connection.publishTimer);
    clearTimeout(connection.lingerTimer);
    connection.guard.release();
    this.counter.release(connection.source);
    this.connections.delete(connection.key);
  }

  private connectionOf(socket: Socket): Connection | undefined {
    const key = connectionKey(socket);
    return key ? this.connections.get(key) : undefined;
  }
}

function connectionKey(socket: Socket): string | undefined {
  const { remoteAddress, remotePort, localPort } = socket;
  return remoteAddress && remotePort && localPort ? `${remoteAddress}|${remotePort}|${localPort}` : undefined;
}

function describeError(error: unknown): string {
  // node-media-server's messages name offsets and types, not payload; cut anyway.
  return error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 200) : 'a non-Error was thrown';
}
