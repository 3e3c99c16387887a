/**
 * The platform's player page: the chosen player library and the page's own script (bundled from
 * edge/player/client/), both served by this edge; errors shown in the page. Pure HTML.
 */
import type { PlayerLibrary, PlayerPageConfig } from './client/config.ts';
import { FAVICON_LINK } from './favicon.ts';
import { html } from './html.ts';

export interface PlayerPageOptions {
  playbackId: string;
  format: PlayerPageConfig['format'];
  player: PlayerLibrary;
  playlistUrl: string;
  mpdUrl: string;
  statusUrl: string;
  /** The player library's <script> (hls.js, dash.js or Shaka Player). */
  libraryScriptUrl: string;
  /** The page's own script (edge/player/client/). */
  clientScriptUrl: string;
  /** The stream's thumbnail, shown before playback starts (carries the viewer's token when there is one). */
  posterUrl?: string;
  /** The thumbnail's absolute URL for link previews; unset on a page that holds a token (a preview must not carry it). */
  ogImageUrl?: string;
}

const LIBRARY_NAMES: Record<PlayerLibrary, string> = { 'hls.js': 'hls.js', 'dash.js': 'dash.js', shaka: 'Shaka Player' };

/** JSON for a <script> element: `<` escaped so no string can close the element. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replaceAll('<', '\\u003c');
}

/** What the page plays, and links to the other choices (same page, other query). */
function choiceLine({ format, player }: PlayerPageOptions): string {
  const link = (href: string, label: string) => `<a href="${html(href)}">${html(label)}</a>`;
  const playing = `Playing ${format === 'dash' ? 'DASH' : 'HLS'} with ${LIBRARY_NAMES[player]}`;
  if (player === 'shaka') {
    const other = format === 'dash' ? link('?format=hls&player=shaka', 'switch to HLS (Shaka Player)') : link('?format=dash&player=shaka', 'switch to DASH (Shaka Player)');
    return `${playing} · ${other} · ${link(`?format=${format}`, `play with ${format === 'dash' ? 'dash.js' : 'hls.js'}`)}`;
  }
  const other = format === 'dash' ? link('?format=hls', 'switch to HLS (hls.js)') : link('?format=dash', 'switch to DASH (dash.js)');
  return `${playing} · ${other} · ${link(`?format=${format}&player=shaka`, 'play with Shaka Player')}`;
}

export function renderPlayerPage(options: PlayerPageOptions): string {
  const config: PlayerPageConfig = {
    format: options.format,
    player: options.player,
    manifestUrl: options.format === 'dash' ? options.mpdUrl : options.playlistUrl,
    statusUrl: options.statusUrl,
  };
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${FAVICON_LINK}
<title>${html(options.playbackId)} · live</title>
<meta property="og:title" content="${html(options.playbackId)} · live">
${options.ogImageUrl ? `<meta property="og:image" content="${html(options.ogImageUrl)}">\n` : ''}<style>
  body { margin: 0; background: #111; color: #eee; font: 15px/1.4 system-ui, sans-serif; }
  main { max-width: 1280px; margin: 0 auto; padding: 16px; }
  video { width: 100%; aspect-ratio: 16 / 9; background: #000; object-fit: contain; }
  #status { color: #aaa; }
  #error { color: #ff8a80; white-space: pre-wrap; }
  a { color: #8ab4f8; }
  .controls { display: flex; gap: 16px; align-items: center; flex-wrap: wrap; }
  select { background: #222; color: #eee; border: 1px solid #555; padding: 2px 6px; }
  #stats { color: #aaa; font-variant-numeric: tabular-nums; }
  .state-line { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; }
  /* The stream's state at a glance: red live, amber reconnecting, grey over, blue its recording. */
  .badge { display: inline-block; min-width: 4em; padding: 2px 10px; border-radius: 4px; font-weight: 700; font-size: 13px; letter-spacing: 0.05em; text-align: center; color: #fff; background: #555; }
  .badge:empty { visibility: hidden; }
  .badge.live { background: #e5322d; }
  .badge.reconnecting { background: #f0a020; color: #111; }
  .badge.recording { background: #2f6fde; }
</style>
</head>
<body>
<main>
  <h1>${html(options.playbackId)}</h1>
  <video id="video" controls muted autoplay playsinline${options.posterUrl ? ` poster="${html(options.posterUrl)}"` : ''}></video>
  <p class="controls"><label>Quality <select id="quality"><option value="auto">Auto</option></select></label>
    <span id="stats"></span></p>
  <p class="state-line"><span id="stream-badge" class="badge"></span> <span id="stream-state"></span>
    <a id="recording-download" download hidden>Download MP4</a></p>
  <p id="status">Loading…</p>
  <p id="error" role="alert" hidden></p>
  <p>${choiceLine(options)}</p>
  <p>HLS: <a href="${html(options.playlistUrl)}">${html(options.playlistUrl)}</a> · DASH: <a href="${html(options.mpdUrl)}">${html(options.mpdUrl)}</a> (open either in VLC)</p>
</main>
<script id="player-config" type="application/json">${scriptJson(config)}</script>
<script src="${html(options.libraryScriptUrl)}"></script>
<script src="${html(options.clientScriptUrl)}"></script>
</body>
</html>
`;
}
