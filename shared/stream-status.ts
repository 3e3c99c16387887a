/** The status document every stream keeps in its prefix: what a viewer or an operator asks first. */

export interface StreamStatusRendition {
  name: string;
  kind: 'video' | 'audio';
  codec: string;
  width?: number;
  height?: number;
  /** Peak bits per second measured so far. */
  bandwidth: number;
}

export interface StreamStatus {
  streamId: string;
  state: 'live' | 'ended';
  /** Epoch milliseconds. */
  startedAt: number;
  updatedAt: number;
  endedAt?: number;
  /** Nominal segment duration, seconds. */
  targetDuration: number;
  renditions: StreamStatusRendition[];
}
