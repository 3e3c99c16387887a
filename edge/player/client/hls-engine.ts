/** HLS with hls.js (the <script> build the edge serves), or the browser's own HLS where there is no MSE. */
import type { PlaybackEngine, PlaybackSource } from './engine.ts';
import { NO_ENGINE } from './engine.ts';
import { PLAYER_CATCH_UP_RATE, PLAYER_HLS_CONFIG } from './hls-config.ts';
import { catchUpWithLive } from './live-catch-up.ts';
import './globals.ts';
import type { PlayerPage } from './page.ts';
import { isRefusal, networkTroubleText, NO_MSE, playbackFailedText, renditionLabel } from './texts.ts';

const MAX_RECOVERIES = 5;

export function startHls(page: PlayerPage, source: PlaybackSource): PlaybackEngine {
  const { video, quality, state } = page;
  const manifestUrl = source.url;
  const Hls = window.Hls;
  if (!(Hls && Hls.isSupported())) {
    if (video.canPlayType('application/vnd.apple.mpegurl')) {
      video.src = manifestUrl;
      return {
        ...NO_ENGINE,
        stop: () => {
          video.removeAttribute('src');
          video.load();
        },
      };
    }
    page.showError(NO_MSE);
    return NO_ENGINE;
  }
  const hls = new Hls({ ...PLAYER_HLS_CONFIG });
  window.hls = hls;
  hls.on(Hls.Events.MANIFEST_PARSED, (_, data) => {
    page.fillQualityMenu(
      data.levels.map((level, index) => ({ value: String(index), height: level.height, bitrate: level.bitrate })),
      (r) => renditionLabel(r.height, r.bitrate),
    );
  });
  quality.onchange = () => {
    // currentLevel switches now (flushing what is buffered); -1 gives the choice back to ABR.
    hls.currentLevel = quality.value === 'auto' ? -1 : Number(quality.value);
  };
  let recoveries = 0;
  hls.on(Hls.Events.FRAG_LOADED, () => {
    recoveries = 0;
  });
  hls.on(Hls.Events.ERROR, (_, data) => {
    state.errors.push({ type: data.type, details: data.details, fatal: data.fatal });
    const status = data.response?.code;
    // A refusal is for good, fatal or not (a segment refused when the token expired, say).
    if (isRefusal(status)) {
      hls.destroy();
      void page.showRefusal(data.context?.url || manifestUrl, status);
      return;
    }
    if (!data.fatal) return;
    if (status === 404 && data.details === Hls.ErrorDetails.MANIFEST_LOAD_ERROR) {
      hls.destroy();
      page.notLiveYet();
      return;
    }
    // A network or decoder hiccup: try again a few times before giving up (a CDN blip, a flaky Wi-Fi).
    if (recoveries < MAX_RECOVERIES && data.type === Hls.ErrorTypes.NETWORK_ERROR) {
      recoveries += 1;
      page.statusLine.textContent = networkTroubleText(data.details);
      setTimeout(() => hls.startLoad(), 1000 * recoveries);
      return;
    }
    if (recoveries < MAX_RECOVERIES && data.type === Hls.ErrorTypes.MEDIA_ERROR) {
      recoveries += 1;
      hls.recoverMediaError();
      return;
    }
    hls.destroy();
    state.fatal = data.details;
    page.showError(playbackFailedText(`${data.type} / ${data.details}`, data.reason));
  });
  hls.loadSource(manifestUrl);
  hls.attachMedia(video);
  catchUpWithLive(hls, video, PLAYER_CATCH_UP_RATE);

  const playingLevel = () => hls.levels[hls.currentLevel];
  return {
    height: () => playingLevel()?.height ?? NaN,
    latency: () => (hls.playingDate ? (Date.now() - hls.playingDate.getTime()) / 1000 : NaN),
    lowLatency: () => Boolean(playingLevel()?.details?.partTarget),
    // hls.js in low-latency mode may not end a stream whose last segment it took as parts: its
    // playlists are ended and every segment is buffered, yet it never ends the media source, and
    // the video waits at the last frame forever. Once the stream says it ended, the playlists
    // agree and the playhead has run into the end of what is buffered (the caller checks), the
    // page ends the buffer itself: the video plays its last frame and stops ("ended").
    finishEndedStream: () => {
      const details = [playingLevel(), hls.audioTracks[hls.audioTrack]].filter((playlist) => playlist !== undefined).map((playlist) => playlist.details);
      if (details.length === 0 || details.some((playlistDetails) => !playlistDetails || playlistDetails.live)) return;
      hls.trigger(Hls.Events.BUFFER_EOS, { type: null });
    },
    stop: () => hls.destroy(),
  };
}
