/** DASH with dash.js (the <script> build the edge serves). */
import type * as dashjs from 'dashjs';
import type { PlaybackEngine, PlaybackSource } from './engine.ts';
import { NO_ENGINE } from './engine.ts';
import './globals.ts';
import type { PlayerPage } from './page.ts';
import { stillPlayheadMove } from './playhead.ts';
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
  // Off: fast switching, which replaces media already buffered from 1.5 segments past the
  // playhead, near the live edge the segment the playhead is in, and Chromium stood still in
  // front of the replaced media; switches take effect at the buffer's end instead (a live viewer
  // has under three segments buffered). Off: preloading the next Period into the same source
  // buffers, which dash.js 5.2 starts once the last segment is fetched, not appended, so that
  // segment can land after the new init segment; and a seek of ours while it preloads cancels the
  // preload, after which it switched Periods without loading anything more (CI, 2026-12-07). Each
  // Period gets a media source of its own: a moment's pause at a publisher's reconnect, which is a
  // discontinuity anyway. watchStillPlayhead moves the video on where dash.js leaves it standing.
  player.updateSettings({ streaming: { buffer: { fastSwitchEnabled: false, reuseExistingSourceBuffers: false } } });
  // dash.js starts playback itself (autoplay): it must see the video element's "play" event,
  // which is what starts its MPD refresh timer. A play() of ours before it listens would fire
  // that event too early, and dash.js would never reload a live MPD (it stalls at the end of
  // the first MPD's segments, then loops over them).
  player.initialize(video, manifestUrl, source.autoplay);
  const stopWatch = watchStillPlayhead(page, player);
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

/** Moves a playhead that stands still: a nudge inside buffered media, or on to the next Period (stillPlayheadMove). */
function watchStillPlayhead(page: PlayerPage, player: dashjs.MediaPlayerClass): () => void {
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
    const stream = player.getActiveStream();
    const info = stream?.getStreamInfo();
    const period = stream && info ? { end: info.start + info.duration, finishedBuffering: stream.getHasFinishedBuffering(), last: info.isLast } : undefined;
    const move = stillPlayheadMove(video, video.buffered, (now - stillSince) / 1000, period);
    if (move === undefined) return;
    (state.playheadMoves ??= []).push(`${move.kind} ${video.currentTime.toFixed(2)}->${move.to.toFixed(2)}`);
    stillSince = now;
    video.currentTime = move.to;
  }, 500);
  return () => clearInterval(timer);
}
