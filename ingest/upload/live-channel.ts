/**
 * One live stream's channel to its live state at the edge (shared/live-channel-protocol.ts): a
 * WebSocket that takes the stream's lease when it opens, keeps it with heartbeats, and carries
 * the stream's parts in order. Parts wait in a queue while the socket has more than
 * HIGH_WATER_BYTES unsent (backpressure) or is down; a part is dropped only once it is older than
 * the part lifetime, and the edge is told, so a player waiting for it gets a 404 at once.
 * While the channel is down (reconnecting with backoff), viewers see segments only: segments
 * and playlists go to storage as always, and the edge stops hinting parts when the channel closes.
 *
 * A segment whose parts went out here is named after its last part (`segment`), and the edge
 * stores it from them and answers; `storeSegment` settles with that answer, or with `stored:
 * false` when the channel is down or closes, the message ages out, or no answer comes within
 * SEGMENT_ANSWER_MS: the segment is then uploaded over HTTP (upload-queue.ts). The stream's
 * documents (playlists, MPD, status) go the same way (`writeDocument`, channel-documents.ts).
 *
 * The socket is `ws`'s client, not Node's global WebSocket (undici): undici copies every frame it
 * sends into a new buffer and masks it byte by byte in JavaScript (~9 % of a busy sidecar's time
 * with encodePartFrame's copy before it). Here a part goes out as fragments of one message: its
 * frame header, then its pieces as the packager made them (its moof and mdat header, views of the
 * frames' bytes; small neighbours joined, message-fragments.ts), with a zero masking key, which
 * `ws` does not apply: no copy of the media on its way to the socket. RFC 6455 asks clients for random keys
 * so that a hostile script in a browser cannot shape what a proxy sees; the sidecar is no
 * browser, runs no one else's code, and sends its own bytes.
 */
import type { Writable } from 'node:stream';
import WebSocket from 'ws';
import {
  CLOSE_CREDENTIAL_EXPIRED,
  CLOSE_LEASE_HELD,
  CLOSE_RELEASED,
  decodeEdgeMessage,
  DOCUMENT_FRAME_MAX_BYTES,
  encodeDocumentHeader,
  encodeMessage,
  encodePartHeader,
  HEARTBEAT_INTERVAL_MS,
  liveChannelPath,
  type ClientMessage,
  type LeaseRequest,
} from '../../shared/live-channel-protocol.ts';
import type { SegmentAssembly } from './part-sink.ts';
import type { AssemblyOutcome } from './upload-queue.ts';
import { streamWriteToken } from '../../shared/write-api.ts';
import { takeSendable, type Outgoing, type OutgoingPart, type PartReport, type QueuedDocument, type QueuedPart, type QueuedSegment } from './live-channel-queue.ts';
import { messageFragments } from './message-fragments.ts';

export type { PartReport };

export type LeaseOutcome = { ok: true } | { ok: false; reason: string };

export interface LiveChannelOptions {
  /** The edge origin, e.g. http://127.0.0.1:8080 */
  edgeUrl: string;
  secret: string;
  playbackId: string;
  lease: LeaseRequest;
  /** A part older than this is not sent (milliseconds). */
  partLifetimeMs: number;
  /** The channel went down or could not open (now and then): parts wait or are dropped. */
  onTrouble: (message: string) => void;
  /** The lease was lost after it was granted (another sidecar took the stream); a refused open answers `lease` instead. */
  onLeaseRefused: (reason: string) => void;
  now?: () => number;
  /** How long a segment waits for the edge's answer before it is uploaded over HTTP (default SEGMENT_ANSWER_MS). */
  segmentAnswerMs?: number;
}

/**
 * The edge answers a segment once it is in storage: a write of a few hundred kB, well under a
 * second; an answer later than this is given up on, and the segment uploaded over HTTP (a store
 * holding it twice holds the same bytes).
 */
export const SEGMENT_ANSWER_MS = 3_000;

function notStored(reason: string): AssemblyOutcome {
  return { stored: false, reason };
}

/** Unsent bytes on the socket beyond which parts wait in the queue. */
const HIGH_WATER_BYTES = 512 * 1024;
// Checking again for room: a WebSocket has no 'drain' event.
const DRAIN_POLL_MS = 10;
// While the channel is down: only to drop what ages out.
const DOWN_POLL_MS = 200;
const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 5_000;
/**
 * Parts sent this recently go again after a reconnect, before anything queued: those in flight
 * when the channel dropped may be lost, and the edge ignores a part it has (same name, same bytes).
 */
const RESEND_MS = 1_000;
/**
 * No answer to the lease request this long (an edge without live channels, or unreachable): the
 * stream is written without a confirmed lease rather than not at all (storage refuses or retries
 * on its own); the channel keeps trying, and a refusal later still drops the publisher.
 */
const LEASE_WAIT_MS = 5_000;
/** No word from the edge for this long (three heartbeats): the channel is dead. */
const SILENCE_LIMIT_MS = 3 * HEARTBEAT_INTERVAL_MS;

/** A zero masking key, which `ws` does not apply (see the module's comment). */
function noMask(mask: Buffer): void {
  mask.fill(0);
}

/** One binary message as fragments of its pieces (message-fragments.ts): its bytes are not joined into a frame. */
function sendMessage(socket: WebSocket, pieces: readonly Uint8Array[]): void {
  const fragments = messageFragments(pieces);
  for (let i = 0; i < fragments.length; i++) socket.send(fragments[i]!, { binary: true, fin: i === fragments.length - 1 });
}

/** A part sent again after a reconnect was reported when first sent. */
const RESENT: PartReport = { sent: () => undefined, dropped: () => undefined };

export class LiveChannel {
  private readonly options: LiveChannelOptions;
  private readonly now: () => number;
  private socket: WebSocket | undefined;
  /** The TCP (or TLS) connection under `socket`, corked while a pump writes. */
  private transport: Writable | undefined;
  private granted = false;
  private closed = false;
  private readonly queue: Outgoing[] = [];
  /** Items sent within RESEND_MS, oldest first. */
  private recent: Outgoing[] = [];
  private everGranted = false;
  private pumpTimer: ReturnType<typeof setTimeout> | undefined;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private reconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private failures = 0;
  private lastHeard = 0;
  private settleLease: ((outcome: LeaseOutcome) => void) | undefined;
  /** Segments named to the edge and not answered yet, by `rendition/file`; documents by `#id`. */
  private readonly awaiting = new Map<string, (outcome: AssemblyOutcome) => void>();
  private nextDocumentId = 0;
  /** The first answer to the lease request: granted, or refused with the edge's reason. */
  readonly lease: Promise<LeaseOutcome>;

  constructor(options: LiveChannelOptions) {
    this.options = options;
    this.now = options.now ?? Date.now;
    this.lease = new Promise((resolve) => (this.settleLease = resolve));
    const wait = setTimeout(() => {
      if (!this.settleLease) return;
      this.options.onTrouble(`no answer to the lease request from the edge's live channel within ${LEASE_WAIT_MS / 1000} s: writing without a confirmed lease`);
      this.settle({ ok: true });
    }, LEASE_WAIT_MS);
    void this.lease.then(() => clearTimeout(wait));
    this.connect();
  }

  /** Whether parts go out now (the lease granted, the socket open). */
  get open(): boolean {
    return this.granted && this.socket?.readyState === WebSocket.OPEN;
  }

  /** Queues a part; it goes out in order, or is dropped once too old (reported). */
  sendPart(part: OutgoingPart, report: PartReport): void {
    if (this.closed) return report.dropped('the stream ended');
    this.queue.push({ kind: 'part', part, queuedAt: this.now(), report });
    this.pump();
  }

  /**
   * A part named as next (the edge hints it) that will not be sent: the edge is told, in order
   * after the parts queued before, and answers whoever waits for it with a 404 and `reason`.
   */
  withdraw(rendition: string, file: string, reason: string): void {
    if (this.closed) return;
    this.queue.push({ kind: 'withdrawn', rendition, file, reason, queuedAt: this.now() });
    this.pump();
  }

  /**
   * Asks the edge to store a segment from its parts, which went out on this channel before (it
   * goes in order after them). Settles with the edge's answer, or not stored (never rejects).
   */
  storeSegment(segment: SegmentAssembly): Promise<AssemblyOutcome> {
    if (this.closed) return Promise.resolve(notStored('the stream ended'));
    if (!this.open) return Promise.resolve(notStored('the live channel is down'));
    const key = `${segment.rendition}/${segment.file}`;
    this.answered(key, notStored('named again'));
    return this.ask(key, { kind: 'segment', message: { type: 'segment', ...segment }, queuedAt: this.now() });
  }

  /**
   * Asks the edge to write one of the stream's documents (`path` relative to the stream's
   * prefix), in order after what went out before. Settles with the edge's answer, or not written
   * (never rejects): the caller writes it over HTTP then.
   */
  writeDocument(path: string, contentType: string, text: string): Promise<AssemblyOutcome> {
    if (this.closed) return Promise.resolve(notStored('the stream ended'));
    if (!this.open) return Promise.resolve(notStored('the live channel is down'));
    const bytes = Buffer.from(text);
    if (bytes.byteLength > DOCUMENT_FRAME_MAX_BYTES) return Promise.resolve(notStored(`longer than the channel's ${DOCUMENT_FRAME_MAX_BYTES} bytes`));
    const id = this.nextDocumentId++;
    return this.ask(`#${id}`, { kind: 'document', id, path, contentType, bytes, queuedAt: this.now() });
  }

  /** Queues what asks the edge for an answer; settles with it, or not stored once SEGMENT_ANSWER_MS pass without one. */
  private ask(key: string, item: QueuedSegment | QueuedDocument): Promise<AssemblyOutcome> {
    return new Promise<AssemblyOutcome>((resolve) => {
      const waitMs = this.options.segmentAnswerMs ?? SEGMENT_ANSWER_MS;
      const timer = setTimeout(() => this.answered(key, notStored(`no answer from the edge within ${waitMs} ms`)), waitMs);
      this.awaiting.set(key, (outcome) => {
        clearTimeout(timer);
        resolve(outcome);
      });
      this.queue.push(item);
      this.pump();
    });
  }

  /** What was asked of the edge under `key` (a segment's `rendition/file`, a document's `#id`) is settled. */
  private answered(key: string, outcome: AssemblyOutcome): void {
    const settle = this.awaiting.get(key);
    if (!settle) return;
    this.awaiting.delete(key);
    settle(outcome);
  }

  /** No answer will come for what was asked (the channel went down or closed): each segment is uploaded, each document written, over HTTP instead. */
  private giveUpAnswers(reason: string): void {
    for (let i = this.queue.length - 1; i >= 0; i--) if (this.queue[i]!.kind === 'segment' || this.queue[i]!.kind === 'document') this.queue.splice(i, 1);
    for (const key of [...this.awaiting.keys()]) this.answered(key, notStored(reason));
  }

  /** The stream ended here: its lease is given back, the channel closed. */
  release(): void {
    if (this.closed) return;
    this.closed = true;
    this.giveUpAnswers('the stream ended');
    this.stopTimers();
    for (const item of this.queue.splice(0)) if (item.kind === 'part') item.report.dropped('the stream ended');
    const socket = this.socket;
    if (socket?.readyState === WebSocket.OPEN && this.granted) {
      socket.send(encodeMessage({ type: 'release' }));
      socket.close(CLOSE_RELEASED, 'released');
    } else socket?.close();
    this.settle({ ok: false, reason: 'the stream ended' });
  }

  private connect(): void {
    if (this.closed) return;
    void streamWriteToken(this.options.secret, this.options.playbackId, this.now()).then((token) => {
      if (this.closed) return;
      const url = new URL(liveChannelPath(this.options.playbackId, this.options.lease), this.options.edgeUrl);
      url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
      // The stream's write token, in a header (never in the URL, which proxies log); the secret itself never travels.
      const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false, generateMask: noMask });
      this.socket = socket;
      this.transport = undefined;
      this.granted = false;
      socket.on('upgrade', (response) => {
        if (socket === this.socket) this.transport = response.socket;
      });
      socket.on('message', (data, isBinary) => this.received(socket, isBinary ? undefined : data.toString()));
      socket.on('close', (code, reason) => this.lost(socket, code, reason.toString()));
      // Always followed by 'close' (an open refused, a connection reset), which decides what next.
      socket.on('error', () => undefined);
    });
  }

  private received(socket: WebSocket, data: string | undefined): void {
    if (socket !== this.socket || data === undefined) return;
    this.lastHeard = this.now();
    const message = decodeEdgeMessage(data);
    if (!message.ok) return;
    if (message.value.type === 'lease') {
      if (this.everGranted) this.resendRecent();
      this.everGranted = true;
      this.granted = true;
      this.failures = 0;
      this.settle({ ok: true });
      this.heartbeat ??= setInterval(() => this.beat(), HEARTBEAT_INTERVAL_MS);
      this.pump();
    } else if (message.value.type === 'refused') {
      this.refused(message.value.reason);
    } else if (message.value.type === 'stored') {
      this.answered(`${message.value.rendition}/${message.value.file}`, { stored: true });
    } else if (message.value.type === 'not-stored') {
      this.answered(`${message.value.rendition}/${message.value.file}`, notStored(`the edge did not store it: ${message.value.reason}`));
    } else if (message.value.type === 'written') {
      this.answered(`#${message.value.id}`, { stored: true });
    } else if (message.value.type === 'not-written') {
      this.answered(`#${message.value.id}`, notStored(`the edge did not write it: ${message.value.reason}`));
    }
  }

  private beat(): void {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN || !this.granted) return;
    if (this.now() - this.lastHeard > SILENCE_LIMIT_MS) {
      socket.close(4000, 'no heartbeat from the edge');
      return;
    }
    this.control({ type: 'heartbeat' });
  }

  private refused(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.giveUpAnswers(`the stream is held by another sidecar: ${reason}`);
    this.stopTimers();
    for (const item of this.queue.splice(0)) if (item.kind === 'part') item.report.dropped('the stream is held by another sidecar');
    // A refusal of the open answers the lease request; onLeaseRefused is for a lease lost later.
    const answered = this.settleLease === undefined;
    this.settle({ ok: false, reason });
    if (answered) this.options.onLeaseRefused(reason);
  }

  private lost(socket: WebSocket, code: number, reason: string): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    this.granted = false;
    if (this.closed) return;
    this.giveUpAnswers(`the live channel closed (${code})`);
    if (code === CLOSE_LEASE_HELD) return this.refused(reason || 'the stream is held by another sidecar');
    // The hourly renewal: the edge closed the channel as its write token expired; a new token goes at once.
    if (code === CLOSE_CREDENTIAL_EXPIRED && this.failures === 0) {
      this.reconnectTimer = setTimeout(() => this.connect(), 0);
      return;
    }
    this.failures += 1;
    const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** (this.failures - 1));
    this.options.onTrouble(`live channel to the edge closed (${code}${reason ? ` ${reason}` : ''}); reconnecting in ${delay} ms, viewers get segments only meanwhile`);
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  private control(message: ClientMessage): void {
    try {
      this.socket?.send(encodeMessage(message));
    } catch {
      // Closing: its close event follows.
    }
  }

  /** Sends what the socket has room for, in order; drops parts that outlived their use (telling the edge). */
  private pump(): void {
    if (this.pumpTimer) return;
    const socket = this.socket;
    const open = this.granted && socket?.readyState === WebSocket.OPEN;
    const { send, drop } = takeSendable(this.queue, {
      now: this.now(),
      lifetimeMs: this.options.partLifetimeMs,
      room: open ? HIGH_WATER_BYTES - socket!.bufferedAmount : 0,
    });
    for (const item of drop) {
      const tooLong = notStored(`waited longer than ${this.options.partLifetimeMs} ms to be sent`);
      if (item.kind === 'segment') this.answered(`${item.message.rendition}/${item.message.file}`, tooLong);
      if (item.kind === 'document') this.answered(`#${item.id}`, tooLong);
      // A withdrawal that aged out says nothing any more: the edge's hold ran out long before.
      if (item.kind !== 'part') continue;
      const reason = `older than ${this.options.partLifetimeMs} ms (the edge is not taking parts fast enough, or the channel is down)`;
      item.report.dropped(reason);
      if (open) this.control({ type: 'skipped', rendition: item.part.rendition, file: item.part.file, reason: `the sidecar dropped it: ${reason}` });
    }
    const now = this.now();
    // ws writes every frame (a part is several fragments) with a system call of its own: corked,
    // all that this pump sends leaves in one writev, the media's bytes still not copied (strace,
    // 20 streams: 830 writev calls a second before, 170 after).
    const transport = send.length > 0 ? this.transport : undefined;
    transport?.cork();
    try {
      for (const item of send) this.send(socket!, item, now);
    } finally {
      transport?.uncork();
    }
    this.recent = this.recent.filter((item) => now - item.queuedAt <= RESEND_MS);
    // Parts still waiting: look again once the socket has sent some (or the channel is back).
    if (this.queue.length > 0) this.pumpTimer = setTimeout(() => ((this.pumpTimer = undefined), this.pump()), open ? DRAIN_POLL_MS : DOWN_POLL_MS);
  }

  private send(socket: WebSocket, item: Outgoing, now: number): void {
    if (item.kind === 'part') {
      // One message (encodePartFrame's bytes) in fragments: the media's bytes are not copied.
      sendMessage(socket, [encodePartHeader(item.part), ...item.part.pieces]);
      item.report.sent();
      this.recent.push({ ...item, queuedAt: now, report: RESENT } satisfies QueuedPart);
    } else if (item.kind === 'segment') {
      // Not sent again after a reconnect: its answer is given up with the channel (uploaded instead).
      this.control(item.message);
    } else if (item.kind === 'document') {
      // As a segment, not sent again after a reconnect: written over HTTP instead.
      sendMessage(socket, [encodeDocumentHeader(item), item.bytes]);
    } else {
      this.control({ type: 'skipped', rendition: item.rendition, file: item.file, reason: item.reason });
      this.recent.push({ ...item, queuedAt: now });
    }
  }

  /** After a reconnect: what was sent just before the drop goes first again (its order kept; the edge takes a part or a withdrawal it has as a repeat). */
  private resendRecent(): void {
    const now = this.now();
    const again = this.recent.filter((item) => now - item.queuedAt <= RESEND_MS);
    this.recent = [];
    this.queue.unshift(...again);
  }

  private settle(outcome: LeaseOutcome): void {
    const settle = this.settleLease;
    this.settleLease = undefined;
    settle?.(outcome);
  }

  private stopTimers(): void {
    clearTimeout(this.pumpTimer);
    clearInterval(this.heartbeat);
    clearTimeout(this.reconnectTimer);
    this.pumpTimer = undefined;
    this.heartbeat = undefined;
  }
}
