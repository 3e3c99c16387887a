/**
 * The player page's hls.js settings, in one place for the page and the latency benchmark (which
 * measures the page's settings beside hls.js's defaults).
 *
 * Low-latency mode takes parts, blocking reloads and the server's PART-HOLD-BACK when the
 * playlists carry them (the edge adds them while the sidecar announces parts). hls.js's own
 * playback-rate catch-up is off (`maxLiveSyncPlaybackRate: 1`): the page runs its own, up to
 * `PLAYER_CATCH_UP_RATE` (live-catch-up.ts), which also works with the little buffer a viewer near
 * a low-latency target has. Holes up to half a second are seeked over at once: an encoder killed
 * mid-segment (a stall, a crash) can end its audio and video a part apart, and hls.js's 0.1 s
 * default then stalls at the hole for good (seen in e2e continuity: 0.3 s, 31.22-31.52, the
 * playhead stuck for 20 s).
 */
export const PLAYER_HLS_CONFIG = { liveDurationInfinity: true, lowLatencyMode: true, maxLiveSyncPlaybackRate: 1, maxBufferHole: 0.5 } as const;

/** The fastest the page plays to get back to its target latency. */
export const PLAYER_CATCH_UP_RATE = 1.5;
