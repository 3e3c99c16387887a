/** What the chunk guard refuses and how much it allows: its verdicts, reasons and limits. */
/** Why a connection is refused; also the `reason` label of the refusal metric. */
export type GuardViolationReason =
  | 'bad-handshake'
  | 'chunk-stream-id'
  | 'chunk-stream-limit'
  | 'chunk-header'
  | 'message-too-large'
  | 'media-before-publish'
  | 'control-message'
  | 'chunk-size'
  | 'connection-memory'
  | 'total-memory';

export interface GuardViolation {
  reason: GuardViolationReason;
  /** For the log: numbers and message types only, never payload bytes (a stream name is a key). */
  detail: string;
}

/**
 * What may go on to node-media-server: the first `passed` bytes (all of them, or up to the end of
 * a command it must act on before the rest can be judged), or nothing.
 */
export type GuardVerdict = { passed: number } | { violation: GuardViolation };

export interface ChunkGuardLimits {
  /** Largest audio, video or data message of an accepted publisher (a keyframe), bytes. */
  maxMessageSize: number;
  /** Chunk stream ids one connection may use (node-media-server keeps a buffer per id, forever). */
  maxChunkStreams: number;
  /** node-media-server's message buffers for one accepted publisher, all chunk streams together, bytes. */
  maxPublisherMemory: number;
}

/**
 * Commands (connect, publish, ...) and control messages are small: a connect with every optional
 * field OBS and ffmpeg send is under 1 kB. So is everything a peer sends before its publish is
 * accepted, so an unauthenticated peer can make node-media-server allocate little.
 */
export const COMMAND_MESSAGE_LIMIT = 64 * 1024;
/** node-media-server's message buffers for a connection that is not (yet) an accepted publisher. */
export const UNPUBLISHED_MEMORY_LIMIT = 256 * 1024;
/** Set Chunk Size: the spec allows 1..2^31-1; encoders use 128..65536 (node-media-server sends 65535). */
export const MAX_CHUNK_SIZE = 65_536;
