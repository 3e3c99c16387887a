/**
 * What the player page shows of a stream's own state, decided from its status document (the
 * page polls `/live/ID/status.json`): live, reconnecting, ended, or ended with a recording to play
 * instead of the dead live stream. Pure: read by the page's script and the unit tests.
 */

/** The stream's latest broadcast as a recording (the status document's `recording` field). */
export interface RecordingLinks {
  id: string;
  /** `recording`: the broadcast is still being recorded (or its documents written); `ready`: complete, playable as VOD. */
  state: 'recording' | 'ready';
  hls: string;
  dash: string;
  mp4: string;
}

export type StreamView =
  /** No status document: nothing was ever published under this id (or it was deleted). */
  | { kind: 'not-live' }
  | { kind: 'starting' }
  | { kind: 'live' }
  | { kind: 'reconnecting' }
  /** Ended, with no recording to play (recording off, or the document does not say). */
  | { kind: 'ended' }
  /** Ended, its recording not complete yet: the page waits for it. */
  | { kind: 'recording-pending'; recording: RecordingLinks }
  /** Ended, its recording complete: the page plays it. */
  | { kind: 'recording'; recording: RecordingLinks };

export type StreamViewKind = StreamView['kind'];

/**
 * What the page shows: the view's kind, except a ready recording the page is not playing yet (a
 * viewer still on the live stream's last seconds, or paused in them): `recording-next`.
 */
export type StreamDisplay = StreamViewKind | 'recording-next';

export function streamDisplay(view: StreamView, onRecording: boolean): StreamDisplay {
  return view.kind === 'recording' && !onRecording ? 'recording-next' : view.kind;
}

function isRecordingLinks(value: unknown): value is RecordingLinks {
  if (typeof value !== 'object' || value === null) return false;
  const { id, state, hls, dash, mp4 } = value as Record<string, unknown>;
  return typeof id === 'string' && (state === 'recording' || state === 'ready') && [hls, dash, mp4].every((url) => typeof url === 'string' && url !== '');
}

/**
 * The view of a status document (`undefined`: none, the 404). A document this page does not
 * understand (an unknown state) says nothing rather than something wrong: `undefined`.
 */
export function streamViewOf(status: unknown): StreamView | undefined {
  if (status === undefined) return { kind: 'not-live' };
  if (typeof status !== 'object' || status === null) return undefined;
  const { state, recording } = status as { state?: unknown; recording?: unknown };
  switch (state) {
    case 'starting':
    case 'live':
    case 'reconnecting':
      return { kind: state };
    case 'ended':
      // A recording field that is not one (an older or newer writer) is as good as none: the live playlists still play.
      if (!isRecordingLinks(recording)) return { kind: 'ended' };
      return recording.state === 'ready' ? { kind: 'recording', recording } : { kind: 'recording-pending', recording };
    default:
      return undefined;
  }
}

/** The short badge beside the title: one word a viewer reads at a glance. */
export function streamBadge(kind: StreamDisplay): string {
  switch (kind) {
    case 'not-live':
      return 'OFFLINE';
    case 'starting':
      return 'STARTING';
    case 'live':
      return 'LIVE';
    case 'reconnecting':
      return 'RECONNECTING';
    case 'ended':
    case 'recording-pending':
    case 'recording-next':
      return 'ENDED';
    case 'recording':
      return 'RECORDING';
  }
}

/** The sentence under the video: whether to wait, that it is over, what plays instead. */
export function streamViewText(kind: StreamDisplay): string {
  switch (kind) {
    case 'not-live':
      return 'Not live yet.';
    case 'starting':
      return 'The stream is starting…';
    case 'live':
      return 'Live';
    case 'reconnecting':
      return "The streamer's connection dropped; waiting for it to come back…";
    case 'ended':
      return 'The stream has ended.';
    case 'recording-pending':
      return 'The stream has ended. Its recording will be ready in a moment…';
    case 'recording-next':
      return 'The stream has ended. Its recording plays next, from the start.';
    case 'recording':
      return 'The stream has ended. This is its recording, from the start.';
  }
}

/**
 * A recording's URL as this viewer fetches it: with the page's own playback token (a signed
 * stream's recording is its viewers' as the stream is), kept as the URL's own query otherwise.
 */
export function withPageToken(url: string, pageQuery: string): string {
  const token = new URLSearchParams(pageQuery).get('token');
  if (!token) return url;
  return `${url}${url.includes('?') ? '&' : '?'}token=${encodeURIComponent(token)}`;
}

/**
 * Whether the page should leave the live stream for its recording now: only once the recording is
 * ready and nothing of the live stream is left to watch (never played, or played to its end), so
 * a viewer watching the last seconds live is not cut off.
 */
export function shouldPlayRecording(view: StreamView | undefined, playback: { playing: boolean; ended: boolean; onRecording: boolean }): boolean {
  return view?.kind === 'recording' && !playback.onRecording && (!playback.playing || playback.ended);
}
