/**
 * What the RTMP chunk stream format and node-media-server's parser of it fix: handshake sizes,
 * header lengths, message types, and what that parser allocates (the chunk guard mirrors it).
 */
export const RTMP_VERSION = 3;
export const HANDSHAKE_BLOCK = 1536;
/** C0 (the version byte), C1 and C2. */
export const HANDSHAKE_BYTES = 1 + HANDSHAKE_BLOCK + HANDSHAKE_BLOCK;
export const DEFAULT_CHUNK_SIZE = 128;
/** Message header length by chunk format (fmt) 0..3. */
export const MESSAGE_HEADER_BYTES = [11, 7, 3, 0] as const;
export const EXTENDED_TIMESTAMP_MARK = 0xffffff;
/** node-media-server allocates this much beyond the announced length of a message. */
export const PARSER_SLACK_BYTES = 1024;
/** node-media-server drops (does not act on) a message whose clock went past 32 bits. */
export const MAX_HANDLED_CLOCK = 0xffffffff;

export const TYPE_SET_CHUNK_SIZE = 1;
/** Protocol control messages and the exact payload length each has. */
export const CONTROL_MESSAGE_LENGTH = new Map<number, number>([
  [1, 4], // Set Chunk Size
  [2, 4], // Abort
  [3, 4], // Acknowledgement
  [5, 4], // Window Acknowledgement Size
  [6, 5], // Set Peer Bandwidth
]);
/** Audio, video, AMF3 and AMF0 data, aggregate: what only an accepted publisher sends. */
export const MEDIA_MESSAGE_TYPES = new Set([8, 9, 15, 18, 22]);
/** AMF3 and AMF0 commands (connect, publish, ...). */
export const COMMAND_MESSAGE_TYPES = new Set([17, 20]);


export function readUint24(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 16) | (bytes[at + 1]! << 8) | bytes[at + 2]!;
}

export function readUint32(bytes: Uint8Array, at: number): number {
  return bytes[at]! * 0x1000000 + readUint24(bytes, at + 1);
}
