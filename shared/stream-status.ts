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
  playbackId: string;
  /**
   * `starting`: a new broadcast began and nothing of it is playable yet (its multivariant
   * playlist is not written): the edge serves no playlist, so the previous broadcast's are never
   * taken for this one's. `reconnecting`: the publisher left and may come back within the
   * reconnect window.
   */
  state: 'starting' | 'live' | 'reconnecting' | 'ended';
  /** Epoch milliseconds. */
  startedAt: number;
  updatedAt: number;
  endedAt?: number;
  /** Nominal segment duration, seconds. */
  targetDuration: number;
  /**
   * Publish sessions after the first: a publisher that reconnected and an encoder that was
   * restarted each start one (both continue the stream after a discontinuity).
   */
  restarts: number;
  renditions: StreamStatusRendition[];
  /** `signed`: the edge serves playlists and segments only with a valid playback token. Absent: public. */
  playback?: 'public' | 'signed';
  /** Present while the stream announces low-latency parts to the edge: playlists carry EXT-X-PART. */
  lowLatency?: { partTarget: number };
  /**
   * The latest broadcast's recording, while the stream records (shared/recordings/): `recording`
   * while the broadcast goes on, `ready` once complete (its playlists exist). URLs root-relative
   * on the edge (`/recordings/ID/RID/index.m3u8`, `.../manifest.mpd`, `/recordings/ID/RID.mp4`).
   */
  recording?: StreamStatusRecording;
}

export interface StreamStatusRecording {
  id: string;
  state: 'recording' | 'ready';
  hls: string;
  dash: string;
  mp4: string;
}

const STATES: ReadonlySet<unknown> = new Set(['starting', 'live', 'reconnecting', 'ended']);
const PLAYBACK_MODES: ReadonlySet<unknown> = new Set(['public', 'signed', undefined]);

/**
 * A status document as readers rely on it, or the reason it is not one. Checks what the edge acts
 * on (state, playback mode, low-latency parts, the front page's fields); a document from a newer
 * sidecar with fields of its own still reads.
 */
export function parseStreamStatus(value: unknown): { ok: true; status: StreamStatus } | { ok: false; reason: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'not a JSON object' };
  const status = value as Record<string, unknown>;
  // Documents written before the public id was called `playbackId` call it `streamId`: ended streams keep theirs.
  if (status.playbackId === undefined && status.streamId !== undefined) {
    const { streamId, ...rest } = status;
    return parseStreamStatus({ ...rest, playbackId: streamId });
  }
  if (typeof status.playbackId !== 'string') return { ok: false, reason: 'playbackId is not a string' };
  if (!STATES.has(status.state)) return { ok: false, reason: `unknown state ${JSON.stringify(status.state)}` };
  if (!PLAYBACK_MODES.has(status.playback)) return { ok: false, reason: `unknown playback ${JSON.stringify(status.playback)}` };
  // Documents written before `restarts` had its name call it `reconnects`: ended streams keep theirs.
  if (status.restarts === undefined && status.reconnects !== undefined) {
    const { reconnects, ...rest } = status;
    return parseStreamStatus({ ...rest, restarts: reconnects });
  }
  for (const field of ['startedAt', 'updatedAt', 'targetDuration', 'restarts'] as const) {
    if (!Number.isFinite(status[field])) return { ok: false, reason: `${field} is not a number` };
  }
  if (!Array.isArray(status.renditions) || !status.renditions.every(isRendition)) return { ok: false, reason: 'renditions is not a list of renditions' };
  const lowLatency = status.lowLatency as { partTarget?: unknown } | undefined;
  if (lowLatency !== undefined && !(typeof lowLatency === 'object' && lowLatency !== null && typeof lowLatency.partTarget === 'number' && lowLatency.partTarget > 0)) {
    return { ok: false, reason: 'lowLatency has no positive partTarget' };
  }
  if (status.recording !== undefined && !isRecording(status.recording)) return { ok: false, reason: 'recording is not {id, state: recording|ready, hls, dash, mp4}' };
  return { ok: true, status: status as unknown as StreamStatus };
}

function isRecording(value: unknown): value is StreamStatusRecording {
  if (typeof value !== 'object' || value === null) return false;
  const recording = value as Record<string, unknown>;
  const path = (field: unknown) => typeof field === 'string' && field.startsWith('/recordings/') && field.length <= 200;
  return typeof recording.id === 'string' && (recording.state === 'recording' || recording.state === 'ready') && path(recording.hls) && path(recording.dash) && path(recording.mp4);
}

function isRendition(value: unknown): value is StreamStatusRendition {
  if (typeof value !== 'object' || value === null) return false;
  const rendition = value as Record<string, unknown>;
  return typeof rendition.name === 'string' && (rendition.kind === 'video' || rendition.kind === 'audio') && typeof rendition.codec === 'string';
}
