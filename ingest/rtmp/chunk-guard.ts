/**
 * Reads what an RTMP peer sends (handshake, then chunk headers) before node-media-server's
 * parser does, and says when the peer asks for something that parser would pay for dearly.
 *
 * node-media-server 4.4.3 allocates a zero-filled buffer of each message's announced length
 * (up to 16 MiB) per chunk stream as soon as the chunk header arrives, for as many chunk streams
 * as the peer names, and accepts any chunk size. This reader keeps the same per-chunk-stream
 * state its parser keeps (so the two agree on every message boundary), knows how much that
 * parser has allocated, and refuses before a byte of an offending buffer reaches it. Pure: no
 * sockets, no clock.
 */
import type { ByteBudget } from './byte-budget.ts';
import { COMMAND_MESSAGE_LIMIT, MAX_CHUNK_SIZE, UNPUBLISHED_MEMORY_LIMIT, type ChunkGuardLimits, type GuardVerdict, type GuardViolation, type GuardViolationReason } from './chunk-guard-policy.ts';
import {
  COMMAND_MESSAGE_TYPES, CONTROL_MESSAGE_LENGTH, DEFAULT_CHUNK_SIZE, EXTENDED_TIMESTAMP_MARK, HANDSHAKE_BYTES, MAX_HANDLED_CLOCK, MEDIA_MESSAGE_TYPES, MESSAGE_HEADER_BYTES,
  PARSER_SLACK_BYTES, readUint24, readUint32, RTMP_VERSION, TYPE_SET_CHUNK_SIZE,
} from './rtmp-chunk-format.ts';

export { COMMAND_MESSAGE_LIMIT, MAX_CHUNK_SIZE, UNPUBLISHED_MEMORY_LIMIT, type ChunkGuardLimits, type GuardVerdict, type GuardViolation, type GuardViolationReason };

/** What node-media-server keeps per chunk stream id, as far as parsing and allocation go. */
interface ChunkStreamState {
  timestamp: number;
  length: number;
  type: number;
  /** Bytes of the current message received so far (0: the next chunk starts a message). */
  received: number;
  /** Size of node-media-server's buffer for this chunk stream (it only grows). */
  capacity: number;
  clock: number;
  /** The payload of a Set Chunk Size message being received. */
  chunkSizeValue: number;
}

type Phase = 'handshake' | 'basic-header' | 'basic-header-id' | 'message-header' | 'extended-timestamp' | 'payload';

export class RtmpChunkGuard {
  private readonly limits: ChunkGuardLimits;
  private readonly budget: ByteBudget | undefined;
  private readonly chunkStreams = new Map<number, ChunkStreamState>();
  private violation: GuardViolation | undefined;
  /** A command just ended before any publish was accepted: node-media-server must act on it first. */
  private commandEnded = false;
  private publishing = false;
  private chunkSize = DEFAULT_CHUNK_SIZE;
  private memory = 0;

  private phase: Phase = 'handshake';
  private handshakeRemaining = HANDSHAKE_BYTES;
  /** The chunk header being read. */
  private format = 0;
  private chunkStreamId = 0;
  private readonly header = new Uint8Array(11);
  private headerFilled = 0;
  private current: ChunkStreamState | undefined;

  constructor(limits: ChunkGuardLimits, budget?: ByteBudget) {
    this.limits = limits;
    this.budget = budget;
  }

  get handshakeComplete(): boolean {
    return this.handshakeRemaining === 0;
  }

  /** node-media-server's message buffers for this connection, bytes (what it has allocated). */
  get parserMemory(): number {
    return this.memory;
  }

  /** The publish was accepted: media messages, and larger ones, may come now. */
  allowPublishing(): void {
    this.publishing = true;
  }

  /** The connection is gone: its share of the shared budget goes back. */
  release(): void {
    this.budget?.release(this.memory);
    this.memory = 0;
  }

  /**
   * Reads the next bytes the peer sent, up to the end of a command while no publish is accepted
   * (that command may be the publish, which changes what may follow: a client may send its first
   * media in the same packet). The passed bytes go to node-media-server, then the rest comes
   * back here. A violation means none of these bytes may reach it (and every later call
   * returns the same violation).
   */
  inspect(bytes: Uint8Array): GuardVerdict {
    let offset = 0;
    this.commandEnded = false;
    while (offset < bytes.length && !this.violation && !this.commandEnded) {
      offset = this.step(bytes, offset);
    }
    return this.violation ? { violation: this.violation } : { passed: offset };
  }

  /** Consumes bytes from `offset` for the current phase; returns the new offset. */
  private step(bytes: Uint8Array, offset: number): number {
    switch (this.phase) {
      case 'handshake':
        return this.readHandshake(bytes, offset);
      case 'basic-header':
        this.readBasicHeader(bytes[offset]!);
        return offset + 1;
      case 'basic-header-id':
        // The two-byte form: ids 64..319.
        this.beginMessageHeader(64 + bytes[offset]!);
        return offset + 1;
      case 'message-header':
      case 'extended-timestamp':
        return this.fillHeader(bytes, offset);
      case 'payload':
        return this.readPayload(bytes, offset);
    }
  }

  private readHandshake(bytes: Uint8Array, offset: number): number {
    if (this.handshakeRemaining === HANDSHAKE_BYTES && bytes[offset] !== RTMP_VERSION) {
      // node-media-server ignores the version byte; anything but 3 is not an RTMP client
      // (random bytes, TLS on the plain port, an HTTP request, RTMPE).
      this.refuse('bad-handshake', `version byte ${bytes[offset]}, not ${RTMP_VERSION}`);
      return offset;
    }
    const taken = Math.min(this.handshakeRemaining, bytes.length - offset);
    this.handshakeRemaining -= taken;
    if (this.handshakeRemaining === 0) this.phase = 'basic-header';
    return offset + taken;
  }

  private readBasicHeader(byte: number): void {
    this.format = byte >> 6;
    const id = byte & 0x3f;
    if (id === 1) {
      // The three-byte form (ids 320..65599): no encoder needs that many, and node-media-server
      // 4.4.3 computes these ids wrongly, so its view and ours of which stream is which could part.
      this.refuse('chunk-stream-id', 'three-byte chunk stream id');
      return;
    }
    if (id === 0) {
      this.phase = 'basic-header-id';
      return;
    }
    this.beginMessageHeader(id);
  }

  private beginMessageHeader(chunkStreamId: number): void {
    this.chunkStreamId = chunkStreamId;
    this.phase = 'message-header';
    this.headerFilled = 0;
    // Type 3: no message header at all.
    if (MESSAGE_HEADER_BYTES[this.format] === 0) this.endMessageHeader();
  }

  /** Collects the message header, then the extended timestamp when there is one. */
  private fillHeader(bytes: Uint8Array, offset: number): number {
    const wanted = this.phase === 'message-header' ? MESSAGE_HEADER_BYTES[this.format]! : 4;
    const taken = Math.min(wanted - this.headerFilled, bytes.length - offset);
    this.header.set(bytes.subarray(offset, offset + taken), this.headerFilled);
    this.headerFilled += taken;
    if (this.headerFilled === wanted) {
      if (this.phase === 'message-header') this.endMessageHeader();
      else this.endExtendedTimestamp(readUint32(this.header, 0));
    }
    return offset + taken;
  }

  private endMessageHeader(): void {
    const stream = this.chunkStream(this.chunkStreamId);
    if (!stream) return;
    this.current = stream;
    const header = this.header;
    if (this.format <= 2) stream.timestamp = readUint24(header, 0);
    if (this.format <= 1) {
      if (stream.received > 0) {
        // A new length in the middle of a message: node-media-server would compute a negative
        // remainder, step back in the input and read payload bytes as headers.
        this.refuse('chunk-header', `type ${this.format} chunk header inside an unfinished message`);
        return;
      }
      stream.length = readUint24(header, 3);
      stream.type = header[6]!;
      if (!this.lengthAllowed(stream.type, stream.length)) return;
    }
    // Like node-media-server: a chunk carries an extended timestamp whenever its chunk stream's
    // last timestamp field was the marker, type-3 chunks included.
    if (stream.timestamp === EXTENDED_TIMESTAMP_MARK) {
      this.phase = 'extended-timestamp';
      this.headerFilled = 0;
    } else {
      this.endExtendedTimestamp(stream.timestamp);
    }
  }

  private endExtendedTimestamp(timestamp: number): void {
    const stream = this.current!;
    if (stream.received === 0) {
      if (!this.messageAllowed(stream)) return;
      stream.clock = this.format === 0 ? timestamp : stream.clock + timestamp;
      if (stream.capacity < stream.length && !this.grow(stream, stream.length + PARSER_SLACK_BYTES)) return;
    }
    this.phase = 'payload';
    // A message without payload ends here (node-media-server ends it with the next byte; the
    // effect on its state is the same).
    if (stream.length === 0) this.endMessage(stream);
  }

  private readPayload(bytes: Uint8Array, offset: number): number {
    const stream = this.current!;
    const chunkLeft = this.chunkSize - (stream.received % this.chunkSize);
    const taken = Math.min(chunkLeft, stream.length - stream.received, bytes.length - offset);
    if (stream.type === TYPE_SET_CHUNK_SIZE) {
      for (let index = 0; index < taken; index++) {
        if (stream.received + index < 4) stream.chunkSizeValue = stream.chunkSizeValue * 256 + bytes[offset + index]!;
      }
    }
    stream.received += taken;
    if (stream.received >= stream.length) this.endMessage(stream);
    else if (stream.received % this.chunkSize === 0) this.phase = 'basic-header';
    return offset + taken;
  }

  private endMessage(stream: ChunkStreamState): void {
    stream.received = 0;
    this.phase = 'basic-header';
    const handled = stream.clock <= MAX_HANDLED_CLOCK;
    if (!this.publishing && COMMAND_MESSAGE_TYPES.has(stream.type)) this.commandEnded = true;
    if (stream.type === TYPE_SET_CHUNK_SIZE) {
      const size = stream.chunkSizeValue;
      stream.chunkSizeValue = 0;
      if (!handled) return;
      if (size < 1 || size > MAX_CHUNK_SIZE) {
        this.refuse('chunk-size', `Set Chunk Size ${size} (allowed 1..${MAX_CHUNK_SIZE})`);
        return;
      }
      this.chunkSize = size;
    }
  }

  /** The chunk stream's state, created on first use within the limit on how many there may be. */
  private chunkStream(id: number): ChunkStreamState | undefined {
    const known = this.chunkStreams.get(id);
    if (known) return known;
    if (this.chunkStreams.size >= this.limits.maxChunkStreams) {
      this.refuse('chunk-stream-limit', `more than ${this.limits.maxChunkStreams} chunk stream ids`);
      return undefined;
    }
    const created: ChunkStreamState = { timestamp: 0, length: 0, type: 0, received: 0, capacity: 0, clock: 0, chunkSizeValue: 0 };
    this.chunkStreams.set(id, created);
    return created;
  }

  /** Checked where a length is announced (type 0 and 1 headers), before anything is allocated. */
  private lengthAllowed(type: number, length: number): boolean {
    const control = CONTROL_MESSAGE_LENGTH.get(type);
    if (control !== undefined && length !== control) {
      // node-media-server reads the value from its buffer whatever the length: a shorter message
      // on a fresh chunk stream throws inside its parser.
      this.refuse('control-message', `control message type ${type} of ${length} bytes (expected ${control})`);
      return false;
    }
    const limit = this.publishing && MEDIA_MESSAGE_TYPES.has(type) ? this.limits.maxMessageSize : COMMAND_MESSAGE_LIMIT;
    if (length > limit) {
      this.refuse('message-too-large', `message type ${type} of ${length} bytes (limit ${limit}${this.publishing ? '' : ' before a publish is accepted'})`);
      return false;
    }
    return true;
  }

  /** Checked where a message starts (its type may be inherited from an earlier header). */
  private messageAllowed(stream: ChunkStreamState): boolean {
    if (!this.publishing && MEDIA_MESSAGE_TYPES.has(stream.type)) {
      // node-media-server would hand it to the broadcast of whatever stream path the connection
      // named, accepted or not.
      this.refuse('media-before-publish', `message type ${stream.type} before a publish is accepted`);
      return false;
    }
    return true;
  }

  /** node-media-server is about to grow this chunk stream's buffer to `capacity` bytes. */
  private grow(stream: ChunkStreamState, capacity: number): boolean {
    const extra = capacity - stream.capacity;
    const limit = this.publishing ? this.limits.maxPublisherMemory : UNPUBLISHED_MEMORY_LIMIT;
    if (this.memory + extra > limit) {
      this.refuse('connection-memory', `message buffers would reach ${this.memory + extra} bytes (limit ${limit})`);
      return false;
    }
    if (this.budget && !this.budget.reserve(extra)) {
      this.refuse('total-memory', `all connections' message buffers would exceed ${this.budget.limit} bytes`);
      return false;
    }
    this.memory += extra;
    stream.capacity = capacity;
    return true;
  }

  private refuse(reason: GuardViolationReason, detail: string): void {
    this.violation ??= { reason, detail };
  }
}
