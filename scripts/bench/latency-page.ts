/**
 * The page that measures glass-to-glass latency (pure HTML): hls.js with a given configuration
 * plays a playlist; on presented frames (requestVideoFrameCallback), a few times a second, the
 * top band of the frame is drawn into a small canvas and the clock boxes' brightness is read,
 * with Date.now() at that moment. Node decodes the boxes afterwards (`clock-pattern.ts`).
 */
import { clockCellBrightness, type ClockLayout } from './clock-pattern.ts';

export interface LatencyPageOptions {
  playlistUrl: string;
  /** hls.js configuration, as JSON. */
  hlsConfig: Record<string, unknown>;
  hlsScriptUrl: string;
  layout: ClockLayout;
  sampleEveryMs: number;
  /** Script run with `hls` and `video` once both exist (a player page's own behaviour, e.g. its start-up jump). */
  playerScript?: string;
}

/** One reading in the page. */
export interface FrameSample {
  /** Date.now() when the frame was presented. */
  at: number;
  brightness: number[];
  /** The frame's height (the rendition being played). */
  height: number;
  /** hls.js's idea of the latency (EXT-X-PROGRAM-DATE-TIME), epoch ms of the frame, when the playlist has dates. */
  playingDate: number | null;
  /** hls.js's own latency estimate (`hls.latency`, s): how far behind its idea of the live edge it plays. */
  behindEdge: number | null;
}

/** What the page reports in `window.bench`. */
export interface PageReport {
  playing: boolean;
  samples: FrameSample[];
  errors: string[];
  fatal: string | null;
  /** `waiting` events of the video after it first played: stalls a viewer sees (each costs latency at 1x). */
  stalls: number;
  /** The page's start-up, once the video first played: where hls.js chose to start and how long it took. */
  startup: StartupReport | null;
  /** hls.js's loading events from the page's start (ms after loadSource, a few hundred at most): what start-up did. */
  events: { at: number; what: string }[];
  /** Every fragment, part and init segment hls.js asked for (a few hundred at most): see `latency-startup.ts`. */
  loads: FragmentLoad[];
  /** Ms from loadSource to the first media playlist loaded (where hls.js fixes its start position), and to the first seek. */
  firstLevelAt: number | null;
  seekAt: number | null;
}

/**
 * One request of hls.js's, ms after loadSource: `requestedAt` when hls.js asked for it (FRAG_LOADING:
 * a fragment, an init segment, the first part of a run; the parts after it in the same segment
 * are asked for without that event, so null), `sent`/`done` from its loader's stats.
 * `firstByte`: the network's wait for the first byte (Resource Timing: request sent on the
 * connection to the response's first byte, ms), unlike `sent`/`done` not delayed by a busy page;
 * null where the browser kept no entry. Absent in records made before it existed.
 */
export interface FragmentLoad {
  type: 'main' | 'audio' | string;
  sn: number | 'initSegment';
  part: number | null;
  requestedAt: number | null;
  sent: number | null;
  done: number | null;
  firstByte?: number | null;
}

export interface StartupReport {
  /** Milliseconds from loadSource to the video's first `playing`. */
  playingAfterMs: number;
  /** hls.js's latency estimate (s behind its live edge) and its target (PART-HOLD-BACK, plus 1 s a stall) at that moment. */
  latency: number;
  targetLatency: number | null;
}

function scriptJson(value: unknown): string {
  return JSON.stringify(value).replaceAll('<', '\\u003c');
}

export function renderLatencyPage(options: LatencyPageOptions): string {
  // The canvas is a frame scaled to this width; only its top band (the clock's rows) is drawn.
  const canvasWidth = 256;
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>latency</title></head>
<body style="margin:0;background:#000">
<video id="video" muted autoplay playsinline style="width:640px;height:360px"></video>
<script src="${options.hlsScriptUrl}"></script>
<script>
"use strict";
const layout = ${scriptJson(options.layout)};
const clockCellBrightness = ${clockCellBrightness.toString()};
// Every request's Resource Timing entry is kept (the default buffer holds 250: a minute of low-latency playback).
performance.setResourceTimingBufferSize(5000);
const bench = (window.bench = { playing: false, samples: [], errors: [], fatal: null, stalls: 0, startup: null, events: [], loads: [], firstLevelAt: null, seekAt: null });
const startedAt = Date.now();
const note = (what) => { if (bench.events.length < 800) bench.events.push({ at: Date.now() - startedAt, what }); };
const video = document.getElementById("video");
const canvas = document.createElement("canvas");
const context = canvas.getContext("2d", { willReadFrequently: true });
const hls = new Hls(${scriptJson(options.hlsConfig)});
window.hls = hls;
hls.on(Hls.Events.ERROR, (_, data) => {
  bench.errors.push(data.type + "/" + data.details + (data.fatal ? " (fatal)" : ""));
  if (data.fatal) { bench.fatal = data.details; }
});
// Start-up as hls.js goes through it: which playlists, which fragments and parts of which level, when.
// A request's timing from hls.js's stats (performance.now() based), in the events' ms: sent, first byte, done.
const perfStart = performance.now() - (Date.now() - startedAt);
const timing = (stats) => stats && stats.loading && stats.loading.start ? " [sent " + Math.round(stats.loading.start - perfStart) + ", first byte +" + Math.round(stats.loading.first - stats.loading.start) + ", done +" + Math.round(stats.loading.end - stats.loading.start) + " ms]" : "";
const what = (data) => data.frag.type + " sn " + data.frag.sn + (data.part ? " part " + data.part.index + (data.part.independent ? " (independent)" : "") : data.frag.sn === "initSegment" ? "" : " whole") + " of level " + data.frag.level;
hls.on(Hls.Events.MANIFEST_LOADED, (_, data) => note("multivariant loaded: levels " + data.levels.map((level) => level.height + "p@" + level.bitrate).join(" ") + ", audio tracks " + (data.audioTracks || []).length + timing(data.stats)));
hls.on(Hls.Events.LEVEL_LOADING, (_, data) => note("level " + data.level + " requested: " + data.url.split("/").slice(-2).join("/")));
hls.on(Hls.Events.LEVEL_LOADED, (_, data) => { if (bench.firstLevelAt === null) bench.firstLevelAt = Date.now() - startedAt; });
hls.on(Hls.Events.LEVEL_LOADED, (_, data) => note("level " + data.level + " loaded: edge " + data.details.edge.toFixed(3) + ", parts " + (data.details.partList || []).length + ", part hold-back " + data.details.partHoldBack + ", live sync position " + (hls.liveSyncPosition === null ? "?" : hls.liveSyncPosition.toFixed(3)) + timing(data.stats)));
hls.on(Hls.Events.AUDIO_TRACK_LOADING, (_, data) => note("audio track requested: " + data.url.split("/").slice(-2).join("/")));
hls.on(Hls.Events.AUDIO_TRACK_LOADED, (_, data) => note("audio track loaded: edge " + data.details.edge.toFixed(3) + timing(data.stats)));
// Every fragment, part and init segment asked for, with when (ms from the start): start-up's requests, one after another.
const load = (data) => ({ type: data.frag.type, sn: data.frag.sn, part: data.part ? data.part.index : null });
hls.on(Hls.Events.FRAG_LOADING, (_, data) => { if (bench.loads.length < 400) bench.loads.push({ ...load(data), requestedAt: Date.now() - startedAt, sent: null, done: null, firstByte: null }); });
// The network's own wait for the first byte of the request for this URL (Resource Timing), null where there is none.
const networkFirstByte = (url) => {
  const entry = performance.getEntriesByName(url).at(-1);
  return entry && entry.responseStart > 0 && entry.requestStart > 0 ? Math.round(entry.responseStart - entry.requestStart) : null;
};
hls.on(Hls.Events.FRAG_LOADED, (_, data) => {
  const stats = (data.part || data.frag).stats;
  const firstByte = networkFirstByte((data.part || data.frag).url);
  const entry = bench.loads.findLast((l) => l.type === data.frag.type && l.sn === data.frag.sn && l.done === null && (l.part === null || l.part === (data.part ? data.part.index : null)));
  if (entry && stats && stats.loading) { entry.sent = Math.round(stats.loading.start - perfStart); entry.done = Math.round(stats.loading.end - perfStart); entry.firstByte = firstByte; }
  else if (bench.loads.length < 400) bench.loads.push({ ...load(data), requestedAt: null, sent: stats && stats.loading ? Math.round(stats.loading.start - perfStart) : null, done: stats && stats.loading ? Math.round(stats.loading.end - perfStart) : null, firstByte });
});
hls.on(Hls.Events.FRAG_LOADING, (_, data) => note("loading " + what(data) + (data.frag.bitrateTest ? " (bitrate test)" : "") + ", start " + (data.part || data.frag).start.toFixed(3)));
hls.on(Hls.Events.FRAG_LOADED, (_, data) => { const network = networkFirstByte((data.part || data.frag).url); note("loaded " + what(data) + timing((data.part || data.frag).stats) + (network === null ? "" : " (network: first byte +" + network + " ms)")); });
hls.on(Hls.Events.INIT_PTS_FOUND, (_, data) => note("timeline found by " + data.id));
hls.on(Hls.Events.FRAG_BUFFERED, (_, data) => note("buffered " + data.frag.type + " sn " + data.frag.sn + (data.part ? " part " + data.part.index : "")));
hls.on(Hls.Events.LEVEL_SWITCHING, (_, data) => note("switching to level " + data.level));
video.addEventListener("playing", () => {
  if (bench.startup) return;
  const ranges = [];
  for (let i = 0; i < video.buffered.length; i++) ranges.push(video.buffered.start(i).toFixed(3) + "-" + video.buffered.end(i).toFixed(3));
  note("playing at " + video.currentTime.toFixed(3) + ", buffered " + ranges.join(" "));
  bench.startup = { playingAfterMs: Date.now() - startedAt, latency: hls.latency, targetLatency: hls.targetLatency };
});
hls.loadSource(${scriptJson(options.playlistUrl)});
hls.attachMedia(video);
${options.playerScript ?? ''}
video.addEventListener("playing", () => { bench.playing = true; });
// A wait inside a seek (the player page's start-up jump) is the seek, not a stall.
video.addEventListener("waiting", () => { note("waiting at " + video.currentTime.toFixed(3) + (video.seeking ? " (seeking)" : "")); if (bench.playing && !video.seeking) bench.stalls += 1; });
video.addEventListener("seeking", () => { if (bench.seekAt === null) bench.seekAt = Date.now() - startedAt; });
video.addEventListener("seeking", () => note("seeking to " + video.currentTime.toFixed(3)));
video.addEventListener("ratechange", () => note("rate " + video.playbackRate + " at latency " + hls.latency.toFixed(3) + " (target " + hls.targetLatency + ")"));
video.play().catch(() => {});
let last = 0;
function sample() {
  const now = Date.now();
  if (now - last < ${options.sampleEveryMs} || !video.videoWidth) return;
  last = now;
  const width = ${canvasWidth};
  const height = Math.round(width * video.videoHeight / video.videoWidth);
  const bandFraction = layout.rows * layout.rowHeight;
  const band = Math.ceil(height * bandFraction);
  canvas.width = width;
  canvas.height = band;
  context.drawImage(video, 0, 0, video.videoWidth, video.videoHeight * band / height, 0, 0, width, band);
  const pixels = context.getImageData(0, 0, width, band).data;
  bench.samples.push({ at: now, brightness: clockCellBrightness(pixels, width, height, layout), height: video.videoHeight,
    playingDate: hls.playingDate ? hls.playingDate.getTime() : null, behindEdge: Number.isFinite(hls.latency) ? hls.latency : null });
}
if ("requestVideoFrameCallback" in video) {
  const onFrame = () => { sample(); video.requestVideoFrameCallback(onFrame); };
  video.requestVideoFrameCallback(onFrame);
} else {
  setInterval(sample, ${options.sampleEveryMs});
}
</script>
</body></html>
`;
}
