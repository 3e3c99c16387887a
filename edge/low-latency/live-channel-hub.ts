/**
 * The edge's end of a stream's live channels (shared/live-channel-protocol.ts): grants the
 * stream's lease to one channel, feeds that channel's parts and notices to the live state in the
 * order they came, and tells the live state when parts stop coming. A channel lives no longer than
 * the write token it was opened with (`closeAt`): it is closed then, and the sidecar opens it again
 * with a new token within the reconnect grace, its lease kept. A segment the holder names by its
 * parts is written to storage from the parts the live state holds (answered `stored`, or
 * `not-stored` with why: the sidecar uploads it then). Runtime-neutral: the socket
 * type and how to send on it are given (the Durable Object's WebSocket on Workers, Hono's
 * WSContext on Node and Deno).
 */
import { LogThrottle } from '../log-throttle.ts';
import {
  CLOSE_BAD_FRAME,
  CLOSE_CREDENTIAL_EXPIRED,
  CLOSE_LEASE_EXPIRED,
  CLOSE_LEASE_HELD,
  CLOSE_RELEASED,
  binaryFrameKind,
  decodeClientMessage,
  decodeDocumentFrame,
  decodePartFrame,
  encodeMessage,
  LEASE_TTL_MS,
  NOT_STORED_REASON_MAX_LENGTH,
  type DocumentFrame,
  type EdgeMessage,
  type LeaseRequest,
  type SegmentMessage,
} from '../../shared/live-channel-protocol.ts';
import { parseStreamRelativePath, streamObjectKey } from '../../shared/storage/layout.ts';
import { putChunks, type ObjectStore } from '../../shared/storage/object-store.ts';
import { abandonmentDeadline } from './abandoned-broadcast.ts';
import type { LiveStreamState } from './live-stream-state.ts';
import { decideLease, type Lease } from './stream-lease.ts';

/**
 * Watches for a broadcast whose holder is gone (abandoned-broadcast.ts), with the runtime's
 * timer: a Durable Object alarm on Workers (it outlives the object's memory), a timer on Node
 * and Deno. The hub asks for one call of `deadlinePassed` at a time.
 */
export interface AbandonmentWatch {
  /** Call the hub's `deadlinePassed` at `at` (epoch ms), instead of any call asked for before; `lease` for a runtime that may lose the hub meanwhile. */
  schedule(at: number, lease: Lease): void;
  cancel(): void;
  /** The broadcast of `lease` is abandoned: end it (never rejects). */
  end(lease: Lease): Promise<void>;
}

export interface ChannelTransport<S> {
  send(socket: S, text: string): void;
  close(socket: S, code: number, reason: string): void;
}

export interface LiveChannelHubOptions<S> {
  /** The stream's live state (made when first needed). */
  state: () => LiveStreamState;
  transport: ChannelTransport<S>;
  ttlMs?: number;
  now?: () => number;
  /** How long a dropped channel has to come back before its hints are answered 404 (default RECONNECT_GRACE_MS). */
  reconnectGraceMs?: number;
  /**
   * Where segments named by their parts are written: the stream's own prefix in this store
   * (unset: every such segment is answered `not-stored`, and the sidecar uploads it).
   */
  storage?: { store: ObjectStore; playbackId: string };
  /** Lease grants, refusals and protocol errors (never a token: the channel carries none after its open). */
  log?: (line: string) => void;
  /** Unset: a broadcast whose sidecar is gone stays as it was left. */
  abandonment?: AbandonmentWatch;
}

const DOCUMENT_TEXT = new TextDecoder();
/** Storage refusing the channel's writes is logged this often at most, per stream. */
const STORAGE_COMPLAINT_MS = 10_000;

/** The sidecar reconnects 250 ms after a drop: a second and a half covers that and the new open. */
export const RECONNECT_GRACE_MS = 1_500;

/** A WebSocket close reason is at most 123 bytes. */
function closeReason(reason: string): string {
  const bytes = new TextEncoder().encode(reason);
  return bytes.byteLength <= 123 ? reason : `${new TextDecoder().decode(bytes.slice(0, 120)).replace(/\uFFFD$/, '')}...`;
}

export class LiveChannelHub<S> {
  private readonly options: LiveChannelHubOptions<S>;
  private readonly ttlMs: number;
  private readonly now: () => number;
  private lease: Lease | undefined;
  /** The holder's open channel, while it has one (a lease outlives its channel by up to its TTL). */
  private holderSocket: S | undefined;
  private stopTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly storageComplaints: LogThrottle;
  /** The last write of each document path still running (writes of one path go one after the other). */
  private readonly documentWrites = new Map<string, Promise<void>>();
  /** Closes the holder's channel when its credential expires. */
  private expiryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: LiveChannelHubOptions<S>) {
    this.options = options;
    this.ttlMs = options.ttlMs ?? LEASE_TTL_MS;
    this.now = options.now ?? Date.now;
    this.storageComplaints = new LogThrottle(STORAGE_COMPLAINT_MS, this.now);
  }

  /** The lease as it stands (tests, an operator's look); undefined once expired or released. */
  get currentLease(): Lease | undefined {
    return this.lease && this.now() < this.lease.expiresAt ? { ...this.lease } : undefined;
  }

  /** A lease, run out or not, whose broadcast the abandonment watch has yet to look at: the hub must be kept for it. */
  get awaitingDeadline(): boolean {
    return this.options.abandonment !== undefined && this.lease !== undefined;
  }

  /** Whether `socket` is the holder's channel. */
  holds(socket: S): boolean {
    return this.holderSocket !== undefined && this.holderSocket === socket;
  }

  /** A channel opened with a lease request: granted (the stream is its) or refused and closed. */
  open(socket: S, request: LeaseRequest): boolean {
    const now = this.now();
    const decision = decideLease(this.lease, request, now);
    if (!decision.grant) {
      this.log(`live channel refused: ${decision.reason}`);
      this.send(socket, { type: 'refused', reason: decision.reason });
      this.options.transport.close(socket, CLOSE_LEASE_HELD, closeReason(decision.reason));
      return false;
    }
    const previous = this.holderSocket;
    if (previous !== undefined && previous !== socket) {
      // The same sidecar again (its channel reconnected, or its next broadcast): the older channel goes.
      this.options.transport.close(previous, CLOSE_LEASE_EXPIRED, 'replaced by a newer channel of the same sidecar');
      this.options.state().partsStopped('the live channel that was to carry it was replaced by a newer one');
    } else if (this.lease && now >= this.lease.expiresAt && this.lease.sidecar !== request.sidecar) {
      this.log(`live channel: the lease of sidecar ${this.lease.sidecar} expired; sidecar ${request.sidecar} takes the stream`);
    }
    this.lease = { ...request, expiresAt: now + this.ttlMs };
    this.options.abandonment?.schedule(abandonmentDeadline(this.lease), this.lease);
    this.holderSocket = socket;
    this.watchCredential(socket, request.closeAt);
    this.send(socket, { type: 'lease', ttlMs: this.ttlMs });
    return true;
  }

  /** A frame on a channel, in the order received. */
  message(socket: S, data: string | ArrayBuffer | ArrayBufferView): void {
    if (!this.holds(socket)) {
      this.options.transport.close(socket, CLOSE_LEASE_EXPIRED, 'this channel no longer holds the stream');
      return;
    }
    const now = this.now();
    // Anything from the holder shows it alive.
    this.lease!.expiresAt = now + this.ttlMs;
    if (typeof data === 'string') return this.control(socket, data);
    const frame = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    if (binaryFrameKind(frame) === 'document') {
      const document = decodeDocumentFrame(frame);
      if (!document.ok) return this.refuse(socket, document.reason);
      return this.writeDocument(socket, document.value);
    }
    // A message's own ArrayBuffer (ws on Node, a Durable Object's socket) is given to the part: no copy of its bytes.
    const part = decodePartFrame(frame, { ownBuffer: data instanceof ArrayBuffer });
    if (!part.ok) return this.refuse(socket, part.reason);
    const { rendition, file, bytes: partBytes, contentType, msn, duration, independent, next, partTarget } = part.value;
    const ref = parseStreamRelativePath(`${rendition}/${file}`);
    if (ref?.kind !== 'part') return this.refuse(socket, 'not a part');
    this.options.state().acceptPart(rendition, { file, session: ref.session, segmentTime: ref.time, index: ref.index, bytes: partBytes, contentType, msn, duration, independent, next, partTarget });
  }

  /**
   * A channel closed (either side): without a release, the lease runs out its TTL. A channel
   * that drops is usually back within a second (the sidecar reconnects at once and sends its
   * last parts again): hints for parts it would have sent are answered 404 only if it is not.
   */
  closed(socket: S): void {
    if (!this.holds(socket)) return;
    this.holderSocket = undefined;
    this.watchCredential(undefined, undefined);
    this.cancelStop();
    const graceMs = this.options.reconnectGraceMs ?? RECONNECT_GRACE_MS;
    this.stopTimer = setTimeout(() => {
      this.stopTimer = undefined;
      if (this.holderSocket === undefined) this.options.state().partsStopped(`the sidecar's live channel closed and was not back within ${graceMs} ms`);
    }, graceMs);
  }

  private control(socket: S, text: string): void {
    const message = decodeClientMessage(text);
    if (!message.ok) return this.refuse(socket, message.reason);
    switch (message.value.type) {
      case 'heartbeat':
        this.send(socket, { type: 'heartbeat' });
        return;
      case 'release':
        this.lease = undefined;
        this.options.abandonment?.cancel();
        this.holderSocket = undefined;
        this.watchCredential(undefined, undefined);
        this.cancelStop();
        this.options.state().partsStopped('the stream ended');
        this.options.transport.close(socket, CLOSE_RELEASED, 'released');
        return;
      case 'skipped':
        // A sidecar from before reasons were sent: it skipped only parts it dropped.
        this.options.state().partSkipped(message.value.rendition, message.value.file, message.value.reason ?? 'the sidecar dropped it');
        return;
      case 'segment':
        void this.storeSegment(socket, message.value);
        return;
    }
  }

  /**
   * Writes a segment from its parts to the stream's own prefix, and tells the holder whether it
   * did. Nothing is written unless the live state holds exactly the parts named, and the channel
   * still holds the lease (checked again right before the write: a state load may come between).
   */
  private async storeSegment(socket: S, segment: SegmentMessage): Promise<void> {
    const { rendition, file } = segment;
    const notStored = (reason: string) => this.send(socket, { type: 'not-stored', rendition, file, reason: reason.slice(0, NOT_STORED_REASON_MAX_LENGTH) });
    const storage = this.options.storage;
    if (!storage) return notStored('this edge does not store segments from parts');
    // The decoder checked the name; checked again here, where the key is made (the write API's rule: nothing outside the stream).
    const ref = parseStreamRelativePath(`${rendition}/${file}`);
    if (ref?.kind !== 'segment') return notStored('not a segment name');
    const found = this.options.state().segmentFromParts(rendition, file, segment.parts, segment.byteLength, segment.contentType);
    if (!found.ok) return notStored(found.reason);
    if (!this.holds(socket) || !this.currentLease) return notStored('this channel no longer holds the stream');
    try {
      await putChunks(storage.store, streamObjectKey(storage.playbackId, ref), found.chunks, { contentType: segment.contentType });
    } catch (error) {
      return notStored(this.storageRefused(file, error));
    }
    this.send(socket, { type: 'stored', rendition, file });
  }

  /**
   * Writes a document (a playlist, the MPD, the status) to the stream's own prefix and answers
   * the holder. A media playlist is written first and then given to the live state (which never
   * lists what storage lacks), as the write API does. Writes of one document go in the order they
   * came: a slow write is never overtaken by the next version's.
   */
  private writeDocument(socket: S, document: DocumentFrame): void {
    const { id, path } = document;
    const previous = this.documentWrites.get(path) ?? Promise.resolve();
    const write = previous
      .then(() => this.storeDocument(socket, document))
      // Whatever went wrong is this version's answer: the next version of the path still follows it.
      .catch((error: unknown) => `the edge could not take it: ${error instanceof Error ? error.message : String(error)}`)
      .then((reason) => this.send(socket, reason === undefined ? { type: 'written', id } : { type: 'not-written', id, reason: reason.slice(0, NOT_STORED_REASON_MAX_LENGTH) }));
    this.documentWrites.set(path, write);
    void write.finally(() => {
      if (this.documentWrites.get(path) === write) this.documentWrites.delete(path);
    });
  }

  /** Stores a document; why not, when it was not. */
  private async storeDocument(socket: S, document: DocumentFrame): Promise<string | undefined> {
    const storage = this.options.storage;
    if (!storage) return 'this edge does not write documents from its live channels';
    // The decoder checked the path; parsed again here, where the key is made (nothing outside the stream).
    const ref = parseStreamRelativePath(document.path);
    if (!ref) return 'not a document path';
    if (!this.holds(socket) || !this.currentLease) return 'this channel no longer holds the stream';
    try {
      await storage.store.put(streamObjectKey(storage.playbackId, ref), document.bytes, { contentType: document.contentType });
    } catch (error) {
      return this.storageRefused(document.path, error);
    }
    if (ref.kind === 'media-playlist') this.options.state().acceptPlaylist(ref.rendition, DOCUMENT_TEXT.decode(document.bytes));
    return undefined;
  }

  /**
   * The abandonment watch's call. The holder heard from since (its lease renewed by heartbeats):
   * the watch goes on to the renewed lease's deadline. Otherwise the broadcast is abandoned: the
   * lease goes, a channel still open (a peer gone without closing it) is closed, hints are
   * answered 404, and the broadcast is ended. `known`: the lease the runtime kept, when this hub
   * is new (a Durable Object evicted meanwhile) and holds none.
   */
  async deadlinePassed(known?: Lease): Promise<void> {
    const lease = this.lease ?? known;
    const watch = this.options.abandonment;
    if (!lease || !watch) return;
    const deadline = abandonmentDeadline(lease);
    if (this.now() < deadline) return watch.schedule(deadline, lease);
    this.lease = undefined;
    const socket = this.holderSocket;
    this.holderSocket = undefined;
    this.watchCredential(undefined, undefined);
    this.cancelStop();
    if (socket !== undefined) this.options.transport.close(socket, CLOSE_LEASE_EXPIRED, 'the lease ran out long ago: the broadcast is ended');
    this.options.state().partsStopped('the stream ended: its sidecar is gone');
    this.log(`live channel: sidecar ${lease.sidecar} gone and the stream not taken up: ending its broadcast`);
    await watch.end(lease);
  }

  /**
   * A write from the channel that storage refused: the holder hears why (and writes it over HTTP);
   * the edge's log says so at most every STORAGE_COMPLAINT_MS per stream, not per write, for as
   * long as an outage lasts.
   */
  private storageRefused(path: string, error: unknown): string {
    const reason = `storage refused it: ${error instanceof Error ? error.message : String(error)}`;
    const line = this.storageComplaints.say(`live channel: a write of ${path} failed (${reason}); the sidecar writes it over HTTP instead`);
    if (line !== undefined) this.log(line);
    return reason;
  }

  /** The holder's channel closes at its credential's expiry (a channel held open must not outlive its token). */
  private watchCredential(socket: S | undefined, closeAt: number | undefined): void {
    if (this.expiryTimer !== undefined) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    if (socket === undefined || closeAt === undefined) return;
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = undefined;
      if (!this.holds(socket)) return;
      this.log('live channel closed: its write token expired (the sidecar opens it again with a new one)');
      this.options.transport.close(socket, CLOSE_CREDENTIAL_EXPIRED, 'the write token expired: open the channel again with a new one');
      this.closed(socket);
    }, Math.max(0, closeAt - this.now()));
  }

  private cancelStop(): void {
    if (this.stopTimer !== undefined) clearTimeout(this.stopTimer);
    this.stopTimer = undefined;
  }

  private refuse(socket: S, reason: string): void {
    this.log(`live channel closed: ${reason}`);
    this.options.transport.close(socket, CLOSE_BAD_FRAME, closeReason(reason));
    this.closed(socket);
  }

  private send(socket: S, message: EdgeMessage): void {
    try {
      this.options.transport.send(socket, encodeMessage(message));
    } catch {
      // A socket closing under us: its close event follows.
    }
  }

  private log(line: string): void {
    (this.options.log ?? console.warn)(`edge: ${line}`);
  }
}
