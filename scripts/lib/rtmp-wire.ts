/**
 * RTMP bytes as a client sends them (handshake, chunks, AMF0 commands), well-formed or not, for
 * tests and load scripts that talk to the sidecar without ffmpeg.
 */
import { randomBytes } from 'node:crypto';

export const RTMP_VERSION = 3;
export const HANDSHAKE_BLOCK = 1536;

export const MessageType = {
  setChunkSize: 1,
  abort: 2,
  acknowledgement: 3,
  userControl: 4,
  windowAckSize: 5,
  setPeerBandwidth: 6,
  audio: 8,
  video: 9,
  dataAmf3: 15,
  sharedObjectAmf3: 16,
  commandAmf3: 17,
  dataAmf0: 18,
  sharedObjectAmf0: 19,
  commandAmf0: 20,
  aggregate: 22,
} as const;

/** C0, C1 and C2 at once: the server does not check C2, so a client need not wait for S1. */
export function clientHandshake(): Buffer {
  const c1 = Buffer.alloc(HANDSHAKE_BLOCK);
  randomBytes(HANDSHAKE_BLOCK - 8).copy(c1, 8);
  return Buffer.concat([Buffer.from([RTMP_VERSION]), c1, c1]);
}

export interface ChunkHeaderFields {
  format: 0 | 1 | 2 | 3;
  chunkStreamId: number;
  timestamp?: number;
  length?: number;
  type?: number;
  playbackId?: number;
  /** Written after the message header when the timestamp field is 0xffffff. */
  extendedTimestamp?: number;
}

/** One chunk header, exactly as described (nothing checked: hostile headers are the point). */
export function chunkHeader(fields: ChunkHeaderFields): Buffer {
  const { format, chunkStreamId: id } = fields;
  const basic =
    id < 64 ? Buffer.from([(format << 6) | id]) : id < 320 ? Buffer.from([format << 6, id - 64]) : Buffer.from([(format << 6) | 1, (id - 64) & 0xff, (id - 64) >> 8]);
  const message = Buffer.alloc([11, 7, 3, 0][format]!);
  if (format <= 2) message.writeUIntBE(fields.timestamp ?? 0, 0, 3);
  if (format <= 1) {
    message.writeUIntBE(fields.length ?? 0, 3, 3);
    message.writeUInt8(fields.type ?? 0, 6);
  }
  if (format === 0) message.writeUInt32LE(fields.playbackId ?? 0, 7);
  const extended = fields.extendedTimestamp === undefined ? Buffer.alloc(0) : Buffer.alloc(4);
  if (fields.extendedTimestamp !== undefined) extended.writeUInt32BE(fields.extendedTimestamp);
  return Buffer.concat([basic, message, extended]);
}

export interface MessageOptions {
  chunkStreamId: number;
  type: number;
  payload: Uint8Array;
  /** The peer's current chunk size (what it last announced; 128 at first). */
  chunkSize?: number;
  playbackId?: number;
  timestamp?: number;
}

/** A whole message: a type-0 chunk, then type-3 chunks of at most `chunkSize` payload bytes. */
export function chunkMessage(options: MessageOptions): Buffer {
  const chunkSize = options.chunkSize ?? 128;
  const { payload, chunkStreamId } = options;
  const timestamp = options.timestamp ?? 0;
  const extended = timestamp >= 0xffffff ? timestamp : undefined;
  const parts: Buffer[] = [
    chunkHeader({ format: 0, chunkStreamId, timestamp: extended === undefined ? timestamp : 0xffffff, length: payload.length, type: options.type, playbackId: options.playbackId ?? 0, extendedTimestamp: extended }),
  ];
  for (let offset = 0; offset < payload.length; offset += chunkSize) {
    if (offset > 0) parts.push(chunkHeader({ format: 3, chunkStreamId, extendedTimestamp: extended }));
    parts.push(Buffer.from(payload.subarray(offset, offset + chunkSize)));
  }
  return Buffer.concat(parts);
}

export function setChunkSize(size: number): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(size >>> 0);
  return chunkMessage({ chunkStreamId: 2, type: MessageType.setChunkSize, payload });
}

export type Amf0Value = string | number | boolean | null | { [key: string]: Amf0Value };

/** AMF0 values one after another (numbers, booleans, strings, null, plain objects). */
export function amf0(...values: Amf0Value[]): Buffer {
  return Buffer.concat(values.map(amf0Value));
}

function amf0Value(value: Amf0Value): Buffer {
  if (value === null) return Buffer.from([0x05]);
  if (typeof value === 'number') {
    const out = Buffer.alloc(9);
    out[0] = 0x00;
    out.writeDoubleBE(value, 1);
    return out;
  }
  if (typeof value === 'boolean') return Buffer.from([0x01, value ? 1 : 0]);
  if (typeof value === 'string') {
    const text = Buffer.from(value, 'utf8');
    if (text.length > 0xffff) {
      const head = Buffer.alloc(5);
      head[0] = 0x0c;
      head.writeUInt32BE(text.length, 1);
      return Buffer.concat([head, text]);
    }
    const head = Buffer.alloc(3);
    head[0] = 0x02;
    head.writeUInt16BE(text.length, 1);
    return Buffer.concat([head, text]);
  }
  const fields = Object.entries(value).map(([key, field]) => {
    const name = Buffer.from(key, 'utf8');
    const length = Buffer.alloc(2);
    length.writeUInt16BE(name.length);
    return Buffer.concat([length, name, amf0Value(field)]);
  });
  return Buffer.concat([Buffer.from([0x03]), ...fields, Buffer.from([0x00, 0x00, 0x09])]);
}

/** Where a command goes and in what chunk size (the client's last Set Chunk Size; 128 at first). */
export interface CommandOptions {
  chunkSize?: number;
  playbackId?: number;
}

export function command(name: string, transactionId: number, args: Amf0Value[], options: CommandOptions = {}): Buffer {
  // Stream-level commands (publish, play) go on their own chunk stream, as ffmpeg sends them.
  const chunkStreamId = options.playbackId ? 8 : 3;
  return chunkMessage({ chunkStreamId, type: MessageType.commandAmf0, payload: amf0(name, transactionId, ...args), chunkSize: options.chunkSize, playbackId: options.playbackId });
}

export function connectCommand(app: string, tcUrl: string, options: CommandOptions = {}): Buffer {
  return command('connect', 1, [{ app, type: 'nonprivate', flashVer: 'FMLE/3.0 (compatible; hostile-test)', tcUrl }], options);
}

export function publishCommand(streamName: string, options: CommandOptions = {}): Buffer {
  return command('publish', 5, [null, streamName, 'live'], { playbackId: 1, ...options });
}

export function playCommand(streamName: string, options: CommandOptions = {}): Buffer {
  return command('play', 4, [null, streamName], { playbackId: 1, ...options });
}
