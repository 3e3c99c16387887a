/** What the page asks of whichever player library plays: what is on screen, how late, and the end of a stream. */

export interface PlaybackEngine {
  /** The height being shown, as the player sees it; NaN while unknown. */
  height(): number;
  /** Seconds behind live; NaN while unknown. */
  latency(): number;
  /** Whether the player is taking low-latency parts (the playlist it plays lists them). */
  lowLatency(): boolean;
  /** Called while the stream says it ended: a player that would wait at the last frame forever ends it here. */
  finishEndedStream(): void;
  /** Stops playing and lets go of the video element (before the page plays something else in it). */
  stop(): void;
}

/** What an engine plays: the live stream's manifest, or its recording's (VOD). */
export interface PlaybackSource {
  url: string;
  /** Whether playback starts by itself (a viewer who watched the live stream to its end is not thrown back to its start). */
  autoplay: boolean;
  live: boolean;
}

/** No player library playing (not loaded, or the browser plays the manifest itself). */
export const NO_ENGINE: PlaybackEngine = {
  height: () => NaN,
  latency: () => NaN,
  lowLatency: () => false,
  finishEndedStream: () => {},
  stop: () => {},
};
