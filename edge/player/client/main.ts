/**
 * The player page's script (bundled into one file by scripts/build-player-client.ts): starts the
 * chosen player on the page's manifest and keeps the status, stats and stream-state lines current;
 * once the stream has ended and its recording is ready, plays the recording instead.
 */
import { readPlayerPageConfig, type PlayerLibrary } from './config.ts';
import { startDash } from './dash-engine.ts';
import { NO_ENGINE, type PlaybackEngine, type PlaybackSource } from './engine.ts';
import { fetchFresh } from './fresh-fetch.ts';
import './globals.ts';
import { startHls } from './hls-engine.ts';
import { PlayerPage } from './page.ts';
import { bufferedAhead, playedOut, watchedStep } from './playhead.ts';
import { startShaka } from './shaka-engine.ts';
import { shouldPlayRecording, streamViewOf, withPageToken, type RecordingLinks } from './stream-view.ts';
import { statsText, watchedText } from './texts.ts';

const STARTERS: Record<PlayerLibrary, (page: PlayerPage, source: PlaybackSource) => PlaybackEngine> = { 'hls.js': startHls, 'dash.js': startDash, shaka: startShaka };

// One function, not module scope: the bundle keeps the engines' local names (video, page) as written.
function runPlayerPage(): void {
  const configElement = document.getElementById('player-config');
  const config = readPlayerPageConfig(JSON.parse(configElement?.textContent ?? 'null'));

  let engine: PlaybackEngine = NO_ENGINE;
  let source: PlaybackSource = { url: config.manifestUrl, autoplay: true, live: true };
  const page = new PlayerPage(config, start);
  const { video, state } = page;
  window.playerState = state;

  function start(): void {
    engine = STARTERS[config.player](page, source);
    // dash.js and Shaka Player start playback themselves; hls.js (or the browser's own HLS) is asked to.
    if (config.player === 'hls.js' && source.autoplay) video.play().catch(() => page.pressPlay());
  }

  /** The live stream is over: its recording (VOD) plays in the same video element, with the same player library. */
  function playRecording(recording: RecordingLinks, autoplay: boolean): void {
    engine.stop();
    page.clearQualityMenu();
    state.onRecording = true;
    state.playing = false;
    // The element's own autoplay attribute would start any new source: the choice is made here.
    video.autoplay = autoplay;
    source = { url: withPageToken(config.format === 'dash' ? recording.dash : recording.hls, location.search), autoplay, live: false };
    if (!autoplay) page.pressPlay();
    start();
  }

  // Seconds of media the viewer has watched: the playhead's steps in normal playback, summed.
  let watchedSeconds = 0;
  let lastPlayhead = NaN;
  video.addEventListener('seeking', () => {
    lastPlayhead = NaN;
  });
  video.addEventListener('timeupdate', () => {
    watchedSeconds += watchedStep(video.currentTime - lastPlayhead, video);
    lastPlayhead = video.currentTime;
  });

  video.addEventListener('playing', () => {
    state.playing = true;
  });
  // Once playing, the video waiting for data is a stall a viewer sees.
  video.addEventListener('waiting', () => {
    if (state.playing) state.stalls = (state.stalls ?? 0) + 1;
  });
  video.addEventListener('error', () => page.showError(`Video element error: ${video.error ? video.error.message : null}`));
  setInterval(() => {
    if (!state.playing) return;
    state.height = engine.height();
    // A recording has no live edge to be behind.
    state.latency = state.onRecording ? NaN : engine.latency();
    state.buffer = bufferedAhead(video.buffered, video.currentTime);
    state.lowLatency = engine.lowLatency();
    // Time watched, not the playhead: a live DASH playhead counts from 1970 (dash.js puts the
    // stream on the wall clock), an HLS one from wherever the live window started.
    page.statusLine.textContent = watchedText(watchedSeconds);
    page.stats.textContent = statsText({ height: state.height, auto: page.quality.value === 'auto', buffer: state.buffer, latency: state.latency, lowLatency: state.lowLatency });
  }, 500);

  // The stream's own status: tells a viewer whether to wait (reconnecting) or that it is over, and
  // when its recording is ready to play instead.
  let playheadAtLastLook = NaN;
  async function refreshStreamState(): Promise<void> {
    try {
      const response = await fetchFresh(config.statusUrl);
      const status = response.ok ? ((await response.json()) as { state?: string }) : undefined;
      state.streamState = status?.state;
      const view = streamViewOf(status);
      if (!view) {
        page.streamStateLine.textContent = '';
        return;
      }
      const ended = playedOut(video, bufferedAhead(video.buffered, video.currentTime), playheadAtLastLook);
      playheadAtLastLook = video.currentTime;
      if (view.kind === 'recording' && shouldPlayRecording(view, { playing: state.playing, ended, onRecording: state.onRecording === true })) {
        // Opened after the end (or nothing played): the recording starts by itself; after the
        // live stream played to its end it waits for the viewer's play.
        playRecording(view.recording, !state.playing);
      }
      page.showStreamView(view);
      if (state.onRecording) return;
      // Once the playhead has run into the end of what is buffered, a player that would wait there forever ends the stream.
      if (status?.state === 'ended' && !video.ended && bufferedAhead(video.buffered, video.currentTime) <= 0.5) engine.finishEndedStream();
    } catch {
      page.streamStateLine.textContent = '';
    }
  }

  // The first status decides what plays: an ended stream with its recording ready never starts the dead live stream.
  void refreshStreamState().finally(() => {
    if (!state.onRecording) start();
    setInterval(refreshStreamState, 3000);
  });
}

runPlayerPage();
