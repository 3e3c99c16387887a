/** DASH with dash.js (the <script> build the edge serves). */
import type { PlaybackEngine, PlaybackSource } from './engine.ts';
import { NO_ENGINE } from './engine.ts';
import './globals.ts';
import type { PlayerPage } from './page.ts';
import { stuckPlayheadTarget } from './playhead.ts';
import { playbackFailedText, renditionLabel } from './texts.ts';

// dash.js's code for "manifest download failed".
const MANIFEST_LOADER_LOADING_FAILURE = 25;

export function startDash(page: PlayerPage, source: PlaybackSource): PlaybackEngine {
  const { video, quality, state } = page;
  const manifestUrl = source.url;
  const dashjs = window.dashjs;
  if (!dashjs) {
    page.showError('dash.js did not load.');
    return NO_ENGINE;
  }
  const player = dashjs.MediaPlayer().create();
  window.dashPlayer = player;
  player.on(dashjs.MediaPlayer.events.ERROR, (event) => {
    const error: { code?: number; message?: string } = typeof event.error === 'object' && event.error !== null ? event.error : {};
    state.errors.push({ type: 'dash', details: String(error.message || error.code || 'error'), fatal: true });
    if (error.code === MANIFEST_LOADER_LOADING_FAILURE) {
      player.reset();
      // dash.js does not say why.
      page.explainManifestFailure(manifestUrl);
      return;
    }
    state.fatal = String(error.code || 'error');
    page.showError(playbackFailedText(String(error.message || error.code)));
  });
  player.on(dashjs.MediaPlayer.events.PLAYBACK_NOT_ALLOWED, () => page.pressPlay());
  player.on(dashjs.MediaPlayer.events.STREAM_INITIALIZED, () => {
    page.fillQualityMenu(
      player.getRepresentationsByType('video').map((r) => ({ value: r.id, height: r.height, bitrate: r.bandwidth })),
      (r) => renditionLabel(r.height, r.bitrate),
    );
  });
  quality.onchange = () => {
    const auto = quality.value === 'auto';
    player.updateSettings({ streaming: { abr: { autoSwitchBitrate: { video: auto } } } });
    if (!auto) player.setRepresentationForTypeById('video', quality.value, true);
  };
  // dash.js starts playback itself (autoplay): it must see the video element's "play" event,
  // which is what starts its MPD refresh timer. A play() of ours before it listens would fire
  // that event too early, and dash.js would never reload a live MPD (it stalls at the end of
  // the first MPD's segments, then loops over them).
  player.initialize(video, manifestUrl, source.autoplay);
  const stopWatch = watchStuckPlayhead(page);
  return {
    height: () => player.getCurrentRepresentationForType('video')?.height ?? NaN,
    latency: () => player.getCurrentLiveLatency(),
    lowLatency: () => false,
    finishEndedStream: () => {},
    stop: () => {
      stopWatch();
      player.reset();
    },
  };
}

/** Moves a playhead that stands still inside buffered media on to the next buffered range (stuckPlayheadTarget). */
function watchStuckPlayhead(page: PlayerPage): () => void {
  const { video, state } = page;
  let lastTime = NaN;
  let stillSince = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    if (video.currentTime !== lastTime || video.paused || video.seeking) {
      lastTime = video.currentTime;
      stillSince = now;
      return;
    }
    const target = stuckPlayheadTarget(video, video.buffered, (now - stillSince) / 1000);
    if (target === undefined) return;
    (state.stuckJumps ??= []).push(`${video.currentTime.toFixed(2)}->${target.toFixed(2)}`);
    stillSince = now;
    video.currentTime = target;
  }, 1000);
  return () => clearInterval(timer);
}
