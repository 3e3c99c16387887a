/**
 * One test page for every browser player (hls.js, Shaka Player, dash.js), served from npm: each
 * reports into `window.playerState` exactly as the platform's player page does (playing, every
 * error event fatal or not, stalls, latency), so one helper (`watchPlayback` in players.ts)
 * watches any of them. Pure HTML; the player scripts are read from node_modules by `playerScript`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../scripts/lib/local-platform.ts';

export type PlayerLibrary = 'hls.js' | 'shaka' | 'dash.js';

export interface PlayerSetup {
  /** How reports name it, e.g. "Shaka Player, HLS, lowLatencyMode". */
  label: string;
  library: PlayerLibrary;
  /** The library's own configuration: `new Hls(config)`, Shaka's `player.configure(config)`, dash.js's `updateSettings(config)`. */
  config: Record<string, unknown>;
  /** Which manifest it plays. */
  format: 'hls' | 'dash';
}

const SCRIPT_FILES: Record<PlayerLibrary, string> = {
  'hls.js': 'hls.js/dist/hls.min.js',
  shaka: 'shaka-player/dist/shaka-player.compiled.js',
  'dash.js': 'dashjs/dist/modern/umd/dash.all.min.js',
};

const scripts = new Map<PlayerLibrary, string>();

/** The library's browser build from node_modules (read once). */
export function playerScript(library: PlayerLibrary): string {
  // By path: dashjs's package exports do not list its UMD build.
  if (!scripts.has(library)) scripts.set(library, readFileSync(join(PROJECT_ROOT, 'node_modules', SCRIPT_FILES[library]), 'utf8'));
  return scripts.get(library)!;
}

function scriptJson(value: unknown): string {
  return JSON.stringify(value).replaceAll('<', '\\u003c');
}

/**
 * The page: `scriptUrl` loads the library, `manifestUrl` is played muted with autoplay. Errors
 * are recorded as `{ type, details, fatal }` with the status and URL where the player gives them.
 */
export function renderHarnessPage(setup: PlayerSetup, manifestUrl: string, scriptUrl: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${setup.library}</title></head>
<body style="margin:0;background:#000">
<video id="video" muted autoplay playsinline style="width:640px;height:360px"></video>
<script src="${scriptUrl}"></script>
<script>
"use strict";
const library = ${scriptJson(setup.library)};
const config = ${scriptJson(setup.config)};
const manifestUrl = ${scriptJson(manifestUrl)};
const video = document.getElementById("video");
const state = (window.playerState = { library, playing: false, errors: [], fatal: null, stalls: 0, stallTimes: [], stallsBehindEnd: [], gapsJumped: null, latency: null });
function record(type, details, fatal) {
  state.errors.push({ type, details: String(details).slice(0, 400), fatal: Boolean(fatal) });
  if (fatal && state.fatal === null) state.fatal = String(details).slice(0, 200);
}
video.addEventListener("playing", () => { state.playing = true; });
// Once playing, the video waiting for data is a stall a viewer sees (as the player page counts them).
// How far the playhead is behind the end of what the player's playlists list (null where the player does not say):
// tells a stall at the live edge (nothing more listed yet) from one further back (the player lost its way).
let behindEnd = () => null;
video.addEventListener("waiting", () => { if (state.playing) { state.stalls += 1; state.stallTimes.push(video.currentTime); state.stallsBehindEnd.push(behindEnd()); } });
video.addEventListener("error", () => record("video", "media element error " + (video.error && video.error.code) + " " + (video.error && video.error.message), true));
let latency = () => null;

function startHls() {
  const hls = new Hls(config);
  window.hls = hls;
  hls.on(Hls.Events.ERROR, (_, data) => {
    const url = (data.context && data.context.url) || (data.frag && data.frag.url) || data.url || "";
    const status = data.response && data.response.code;
    record(data.type, data.details + (status !== undefined ? " " + status : "") + (url ? " " + url : "") + (data.reason ? " (" + data.reason + ")" : ""), data.fatal);
  });
  hls.loadSource(manifestUrl);
  hls.attachMedia(video);
  video.play().catch(() => {});
  latency = () => (hls.playingDate ? (Date.now() - hls.playingDate.getTime()) / 1000 : hls.latency);
  behindEnd = () => { const level = hls.levels[hls.currentLevel]; return level && level.details ? level.details.edge - video.currentTime : null; };
}

async function startShaka() {
  shaka.polyfill.installAll();
  const player = new shaka.Player();
  window.shakaPlayer = player;
  // Shaka fires "error" for recoverable problems too (severity 1): every one is recorded.
  player.addEventListener("error", (event) => {
    const error = event.detail;
    record("shaka", "code " + error.code + " (category " + error.category + ", severity " + error.severity + ") " + JSON.stringify(error.data).slice(0, 300), error.severity === 2);
  });
  await player.attach(video);
  player.configure(config);
  try {
    await player.load(manifestUrl);
  } catch (error) {
    record("shaka", "load failed: code " + error.code + " " + JSON.stringify(error.data).slice(0, 300), true);
    return;
  }
  video.play().catch(() => {});
  latency = () => { const value = player.getStats().liveLatency; return Number.isFinite(value) ? value : null; };
  // The end of the newest segment or part listed (a preload hint counts as a part for Shaka).
  behindEnd = () => { const manifest = player.getManifest(); return manifest ? manifest.presentationTimeline.getSegmentAvailabilityEnd() - video.currentTime : null; };
  // Holes in the buffer Shaka jumped over: media it never appended (a stall there is no network wait).
  setInterval(() => { state.gapsJumped = player.getStats().gapsJumped; }, 500);
}

function startDash() {
  const player = dashjs.MediaPlayer().create();
  window.dashPlayer = player;
  player.updateSettings(config);
  player.on(dashjs.MediaPlayer.events.ERROR, (event) => {
    const error = event.error || {};
    record("dash", "code " + error.code + " " + (error.message || ""), false);
  });
  player.on(dashjs.MediaPlayer.events.PLAYBACK_ERROR, (event) => record("dash-playback", String(event.error && (event.error.message || event.error.code)), true));
  // dash.js starts playback itself: a play() of ours before it listens stops its live MPD refresh (see TOOLCHAIN).
  player.initialize(video, manifestUrl, true);
  latency = () => { const value = player.getCurrentLiveLatency(); return Number.isFinite(value) ? value : null; };
}

try {
  if (library === "hls.js") startHls();
  else if (library === "shaka") startShaka().catch((error) => record("shaka", "start failed: " + error, true));
  else startDash();
} catch (error) {
  record("page", "start failed: " + error, true);
}
setInterval(() => { if (state.playing) state.latency = latency(); }, 500);
</script>
</body></html>
`;
}
