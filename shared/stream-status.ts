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
  /** `reconnecting`: the publisher left and may come back within the reconnect window. */
  state: 'live' | 'reconnecting' | 'ended';
  /** Epoch milliseconds. */
  startedAt: number;
  updatedAt: number;
  endedAt?: number;
  /** Nominal segment duration, seconds. */
  targetDuration: number;
  /** Sessions after the first: publisher reconnects and encoder restarts. */
  reconnects: number;
  renditions: StreamStatusRendition[];
  /** `signed`: the edge serves playlists and segments only with a valid playback token. Absent: public. */
  playback?: 'public' | 'signed';
  /** Present while the stream announces low-latency parts to the edge: playlists carry EXT-X-PART. */
  lowLatency?: { partTarget: number };
}
