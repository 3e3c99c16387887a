/** What the player page says to the viewer: stats line, durations, refusals and failures. Pure. */

export const NOT_LIVE_YET = 'The stream is not live yet; retrying…';
export const RECORDING_NOT_YET = 'The recording is not available yet; retrying…';
export const PRESS_PLAY = 'Press play to start.';
export const NO_MSE = 'This browser cannot play HLS (no Media Source Extensions). Open the playlist in VLC.';
export const NO_MSE_SHAKA = 'This browser cannot play this stream with Shaka Player (no Media Source Extensions). Open the playlist in VLC.';

/** 401 and 403 are the edge saying no (a signed stream without a valid playback token): no retry changes that. */
export function isRefusal(status: number | undefined): status is 401 | 403 {
  return status === 401 || status === 403;
}

/** The reason in the edge's JSON error body (`{"error": "…"}`), or '' for any other body. */
export function refusalReason(body: unknown): string {
  if (typeof body !== 'object' || body === null) return '';
  const error = (body as { error?: unknown }).error;
  return typeof error === 'string' ? error : '';
}

export function refusalText(status: 401 | 403, reason: string): string {
  return (
    `The edge refused this stream (${status}${status === 401 ? ' Unauthorized' : ' Forbidden'})` +
    (reason ? `: ${reason}` : '') +
    (status === 401 ? ". A signed stream plays with its token in the page's address: ?token=…" : '')
  );
}

export function networkTroubleText(details: string): string {
  return `Network trouble (${details}); retrying…`;
}

export function playbackFailedText(what: string, reason?: string): string {
  return `Playback failed: ${what}${reason ? ` (${reason})` : ''}`;
}

/** Time watched: "42.3 s" under a minute, "3 min 07 s" from one. */
export function formatDuration(seconds: number): string {
  const whole = Math.floor(seconds);
  const minutes = Math.floor(whole / 60);
  return minutes > 0 ? `${minutes} min ${String(whole % 60).padStart(2, '0')} s` : `${seconds.toFixed(1)} s`;
}

export function watchedText(seconds: number): string {
  return `Playing · watched ${formatDuration(seconds)}`;
}

/** A quality menu entry: "720p · 2800 kb/s". */
export function renditionLabel(height: number, bitrate: number): string {
  return `${height}p · ${Math.round(bitrate / 1000)} kb/s`;
}

export interface PlaybackStats {
  /** Height on screen; NaN while unknown. */
  height: number;
  /** The quality menu is on Auto (the player chooses). */
  auto: boolean;
  /** Seconds buffered ahead of the playhead. */
  buffer: number;
  /** Seconds behind live; NaN while unknown. */
  latency: number;
  lowLatency: boolean;
}

/** The stats line: "720p (auto) · buffer 1.8 s · 1.4 s behind live · low latency", unknown parts left out. */
export function statsText(stats: PlaybackStats): string {
  return [
    Number.isFinite(stats.height) ? `${stats.height}p${stats.auto ? ' (auto)' : ''}` : '',
    `buffer ${stats.buffer.toFixed(1)} s`,
    Number.isFinite(stats.latency) ? `${stats.latency.toFixed(1)} s behind live` : '',
    stats.lowLatency ? 'low latency' : '',
  ]
    .filter(Boolean)
    .join(' · ');
}
