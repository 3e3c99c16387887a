/** The platform's player page: hls.js or dash.js served by this worker, errors shown in the page. Pure HTML. */
import { FAVICON_LINK } from './favicon.ts';
import { html } from './html.ts';

export interface PlayerPageOptions {
  streamId: string;
  format: 'hls' | 'dash';
  playlistUrl: string;
  mpdUrl: string;
  statusUrl: string;
  hlsScriptUrl: string;
  dashScriptUrl: string;
}

/** JSON for a <script> element: `<` escaped so no string can close the element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replaceAll('<', '\\u003c');
}

export function renderPlayerPage(options: PlayerPageOptions): string {
  const dash = options.format === 'dash';
  const manifestUrl = dash ? options.mpdUrl : options.playlistUrl;
  const other = dash ? { label: 'HLS (hls.js)', href: `?format=hls` } : { label: 'DASH (dash.js)', href: `?format=dash` };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${FAVICON_LINK}
<title>${html(options.streamId)} · live</title>
<style>
  body { margin: 0; background: #111; color: #eee; font: 15px/1.4 system-ui, sans-serif; }
  main { max-width: 1280px; margin: 0 auto; padding: 16px; }
  video { width: 100%; aspect-ratio: 16 / 9; background: #000; }
  #status { color: #aaa; }
  #error { color: #ff8a80; white-space: pre-wrap; }
  a { color: #8ab4f8; }
  .controls { display: flex; gap: 16px; align-items: center; flex-wrap: wrap; }
  select { background: #222; color: #eee; border: 1px solid #555; padding: 2px 6px; }
  #stats { color: #aaa; font-variant-numeric: tabular-nums; }
</style>
</head>
<body>
<main>
  <h1>${html(options.streamId)}</h1>
  <video id="video" controls muted autoplay playsinline></video>
  <p class="controls"><label>Quality <select id="quality"><option value="auto">Auto</option></select></label>
    <span id="stats"></span></p>
  <p id="status">Loading…</p>
  <p id="stream-state"></p>
  <p id="error" role="alert" hidden></p>
  <p>Playing ${dash ? 'DASH with dash.js' : 'HLS with hls.js'} · <a href="${html(other.href)}">switch to ${html(other.label)}</a></p>
  <p>HLS: <a href="${html(options.playlistUrl)}">${html(options.playlistUrl)}</a> · DASH: <a href="${html(options.mpdUrl)}">${html(options.mpdUrl)}</a> (open either in VLC)</p>
</main>
<script src="${html(dash ? options.dashScriptUrl : options.hlsScriptUrl)}"></script>
<script>
"use strict";
const format = ${scriptJson(options.format)};
const manifestUrl = ${scriptJson(manifestUrl)};
const statusUrl = ${scriptJson(options.statusUrl)};
const video = document.getElementById("video");
const statusLine = document.getElementById("status");
const errorBox = document.getElementById("error");
const quality = document.getElementById("quality");
const stats = document.getElementById("stats");
const MAX_RECOVERIES = 5;
// Read by end-to-end tests and by people debugging in the console.
const state = (window.playerState = { format, playing: false, errors: [], fatal: null });

function showError(message) {
  errorBox.hidden = false;
  errorBox.textContent = message;
}

function notLiveYet() {
  statusLine.textContent = "The stream is not live yet; retrying…";
  setTimeout(start, 3000);
}

// 401 and 403 are the edge saying no (a signed stream without a valid playback token): no retry
// changes that, and its JSON body says why. Players only see the status, so the page asks once.
function isRefusal(status) { return status === 401 || status === 403; }
async function showRefusal(url, status) {
  let reason = "";
  try {
    const body = await (await fetch(url, { cache: "no-store" })).json();
    reason = typeof body.error === "string" ? body.error : "";
  } catch (error) {
    // No JSON reason (a proxy's page, say): the status alone.
  }
  state.fatal = "refused-" + status;
  statusLine.textContent = "";
  showError("The edge refused this stream (" + status + (status === 401 ? " Unauthorized" : " Forbidden") + ")" + (reason ? ": " + reason : "") +
    (status === 401 ? ". A signed stream plays with its token in the page's address: ?token=…" : ""));
}

function startHls() {
  if (!(window.Hls && Hls.isSupported())) {
    if (video.canPlayType("application/vnd.apple.mpegurl")) { video.src = manifestUrl; return; }
    showError("This browser cannot play HLS (no Media Source Extensions). Open the playlist in VLC.");
    return;
  }
  // Low-latency mode takes parts, blocking reloads and the server's PART-HOLD-BACK when the
  // playlists carry them (the edge adds them while the sidecar announces parts). Playing up to
  // 1.5x brings a late start (or a stall) back to the target latency; at 1x it stays late.
  const hls = new Hls({ liveDurationInfinity: true, lowLatencyMode: true, maxLiveSyncPlaybackRate: 1.5 });
  window.hls = hls;
  hls.on(Hls.Events.MANIFEST_PARSED, (_, data) => {
    fillQualityMenu(data.levels.map((level, index) => ({ value: String(index), height: level.height, bitrate: level.bitrate })));
  });
  quality.onchange = () => {
    // currentLevel switches now (flushing what is buffered); -1 gives the choice back to ABR.
    hls.currentLevel = quality.value === "auto" ? -1 : Number(quality.value);
  };
  let recoveries = 0;
  hls.on(Hls.Events.FRAG_LOADED, () => { recoveries = 0; });
  hls.on(Hls.Events.ERROR, (_, data) => {
    state.errors.push({ type: data.type, details: data.details, fatal: data.fatal });
    const status = data.response && data.response.code;
    // A refusal is for good, fatal or not (a segment refused when the token expired, say).
    if (isRefusal(status)) { hls.destroy(); return void showRefusal((data.context && data.context.url) || manifestUrl, status); }
    if (!data.fatal) return;
    if (status === 404 && data.details === "manifestLoadError") { hls.destroy(); return notLiveYet(); }
    // A network or decoder hiccup: try again a few times before giving up (a CDN blip, a flaky Wi-Fi).
    if (recoveries < MAX_RECOVERIES && data.type === Hls.ErrorTypes.NETWORK_ERROR) {
      recoveries += 1;
      statusLine.textContent = "Network trouble (" + data.details + "); retrying…";
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
    showError("Playback failed: " + data.type + " / " + data.details + (data.reason ? " (" + data.reason + ")" : ""));
  });
  hls.loadSource(manifestUrl);
  hls.attachMedia(video);
}

function startDash() {
  if (!window.dashjs) { showError("dash.js did not load."); return; }
  const player = dashjs.MediaPlayer().create();
  window.dashPlayer = player;
  player.on(dashjs.MediaPlayer.events.ERROR, (event) => {
    const error = event.error || {};
    state.errors.push({ type: "dash", details: String(error.message || error.code || "error"), fatal: true });
    if (error.code === 25 /* manifest download failed */) {
      player.reset();
      // dash.js does not say why: a refusal is shown, anything else (404) waits for the stream.
      fetch(manifestUrl, { cache: "no-store" })
        .then((response) => (isRefusal(response.status) ? showRefusal(manifestUrl, response.status) : notLiveYet()))
        .catch(notLiveYet);
      return;
    }
    state.fatal = String(error.code || "error");
    showError("Playback failed: " + (error.message || error.code));
  });
  player.on(dashjs.MediaPlayer.events.PLAYBACK_NOT_ALLOWED, pressPlay);
  player.on(dashjs.MediaPlayer.events.STREAM_INITIALIZED, () => {
    fillQualityMenu(player.getRepresentationsByType("video").map((r) => ({ value: r.id, height: r.height, bitrate: r.bandwidth })));
  });
  quality.onchange = () => {
    const auto = quality.value === "auto";
    player.updateSettings({ streaming: { abr: { autoSwitchBitrate: { video: auto } } } });
    if (!auto) player.setRepresentationForTypeById("video", quality.value, true);
  };
  // dash.js starts playback itself (autoplay): it must see the video element's "play" event,
  // which is what starts its MPD refresh timer. A play() of ours before it listens would fire
  // that event too early, and dash.js would never reload a live MPD (it stalls at the end of
  // the first MPD's segments, then loops over them).
  player.initialize(video, manifestUrl, true);
}

function fillQualityMenu(renditions) {
  state.renditions = renditions.map((r) => r.height);
  for (const r of [...renditions].sort((a, b) => b.height - a.height)) {
    const option = document.createElement("option");
    option.value = r.value;
    option.textContent = r.height + "p · " + Math.round(r.bitrate / 1000) + " kb/s";
    quality.append(option);
  }
}

/** The height being shown, as the player sees it. */
function currentHeight() {
  if (window.dashPlayer) {
    const representation = window.dashPlayer.getCurrentRepresentationForType("video");
    return representation ? representation.height : NaN;
  }
  const hls = window.hls;
  const level = hls && hls.levels[hls.currentLevel];
  return level ? level.height : NaN;
}

/** Whether the player is taking low-latency parts (the playlist it plays lists them). */
function lowLatencyActive() {
  const hls = window.hls;
  const level = hls && hls.levels[hls.currentLevel];
  return Boolean(level && level.details && level.details.partTarget);
}

// Seconds of media the viewer has watched: the playhead's steps in normal playback, summed. Not
// video.played: dash.js's first seek from 0 to the live edge (on the wall clock) counts as played.
let watchedSeconds = 0;
let lastPlayhead = NaN;
video.addEventListener("seeking", () => { lastPlayhead = NaN; });
video.addEventListener("timeupdate", () => {
  const step = video.currentTime - lastPlayhead;
  // A jump (a seek, a player catching up with live, a gap skipped) is not watching.
  if (!video.paused && !video.seeking && step > 0 && step < 2) watchedSeconds += step;
  lastPlayhead = video.currentTime;
});

function formatDuration(seconds) {
  const whole = Math.floor(seconds);
  const minutes = Math.floor(whole / 60);
  return minutes > 0 ? minutes + " min " + String(whole % 60).padStart(2, "0") + " s" : seconds.toFixed(1) + " s";
}

function bufferedSeconds() {
  for (let i = 0; i < video.buffered.length; i++) {
    if (video.buffered.start(i) <= video.currentTime + 0.1 && video.currentTime <= video.buffered.end(i)) return video.buffered.end(i) - video.currentTime;
  }
  return 0;
}

function pressPlay() {
  statusLine.textContent = "Press play to start.";
}

function start() {
  if (format === "dash") { startDash(); return; }
  startHls();
  video.play().catch(pressPlay);
}

function latencySeconds() {
  if (window.dashPlayer) return window.dashPlayer.getCurrentLiveLatency();
  const hls = window.hls;
  return hls && hls.playingDate ? (Date.now() - hls.playingDate.getTime()) / 1000 : NaN;
}

video.addEventListener("playing", () => { state.playing = true; });
// Once playing, the video waiting for data is a stall a viewer sees.
video.addEventListener("waiting", () => { if (state.playing) state.stalls = (state.stalls || 0) + 1; });
video.addEventListener("error", () => showError("Video element error: " + (video.error && video.error.message)));
setInterval(() => {
  if (!state.playing) return;
  const latency = latencySeconds();
  const height = currentHeight();
  state.height = height;
  state.latency = latency;
  state.buffer = bufferedSeconds();
  state.lowLatency = lowLatencyActive();
  // Time watched, not the playhead: a live DASH playhead counts from 1970 (dash.js puts the
  // stream on the wall clock), an HLS one from wherever the live window started.
  statusLine.textContent = "Playing · watched " + formatDuration(watchedSeconds);
  stats.textContent = [
    Number.isFinite(height) ? height + "p" + (quality.value === "auto" ? " (auto)" : "") : "",
    "buffer " + state.buffer.toFixed(1) + " s",
    Number.isFinite(latency) ? latency.toFixed(1) + " s behind live" : "",
    state.lowLatency ? "low latency" : "",
  ].filter(Boolean).join(" · ");
}, 500);

// The stream's own status: tells a viewer whether to wait (reconnecting) or that it is over.
const stateLine = document.getElementById("stream-state");
const stateText = { live: "Live", reconnecting: "The streamer's connection dropped; waiting for it to come back…", ended: "The stream has ended." };
async function refreshStreamState() {
  try {
    const response = await fetch(statusUrl, { cache: "no-store" });
    if (!response.ok) { stateLine.textContent = "Not live yet."; return; }
    const status = await response.json();
    state.streamState = status.state;
    stateLine.textContent = stateText[status.state] || "";
    if (status.state === "ended") finishEndedStream();
  } catch (error) {
    stateLine.textContent = "";
  }
}
// hls.js in low-latency mode may not end a stream whose last segment it took as parts: its
// playlists are ended and every segment is buffered, yet it never ends the media source, and the
// video waits at the last frame forever. Once the stream says it ended, the playlists agree and
// the playhead has run into the end of what is buffered, the page ends the buffer itself: the
// video plays its last frame and stops ("ended"), as for any finished video.
function finishEndedStream() {
  const hls = window.hls;
  if (!hls || video.ended || bufferedSeconds() > 0.5) return;
  const details = [hls.levels[hls.currentLevel], hls.audioTracks[hls.audioTrack]].filter(Boolean).map((playlist) => playlist.details);
  if (details.length === 0 || details.some((playlistDetails) => !playlistDetails || playlistDetails.live)) return;
  hls.trigger(Hls.Events.BUFFER_EOS, {});
}

refreshStreamState();
setInterval(refreshStreamState, 3000);
start();
</script>
</body>
</html>
`;
}
