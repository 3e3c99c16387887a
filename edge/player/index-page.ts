/**
 * The platform's front page: a grid of the streams live now, each with its thumbnail (the 320-wide
 * one; a stream without one yet shows an empty tile), linking to its player. Pure HTML.
 */
import { FAVICON_LINK } from './favicon.ts';
import { html } from './html.ts';
import type { StreamStatus } from '../../shared/stream-status.ts';

function describe(status: StreamStatus, now: number): string {
  const minutes = Math.max(0, Math.round((now - status.startedAt) / 60_000));
  const top = [...status.renditions].filter((rendition) => rendition.kind === 'video').sort((a, b) => (b.height ?? 0) - (a.height ?? 0))[0];
  const parts = [status.state === 'reconnecting' ? 'reconnecting…' : 'live', `for ${minutes} min`];
  if (top?.height) parts.push(`up to ${top.height}p`);
  return parts.join(' · ');
}

/** A stream to list: its id (from the storage prefix its status was read under) and that status. */
export interface LiveStream {
  playbackId: string;
  status: StreamStatus;
}

/** The thumbnail the grid shows: small enough for a tile, sharp on a 2x screen at 160 px. */
export function gridThumbnailPath(playbackId: string): string {
  return `/live/${playbackId}/thumbnail.jpg?width=320`;
}

/**
 * `streams`: public streams that are live or reconnecting, newest first (never signed ones: their
 * ids and pictures are for their viewers). `origin`: this page's origin, for the absolute og:image.
 */
export function renderIndexPage(streams: readonly LiveStream[], now: number, listingLimited: boolean, origin = ''): string {
  const items = streams.map(
    ({ playbackId, status }) =>
      `<li class="stream"><a href="/watch/${html(playbackId)}"><img src="${html(gridThumbnailPath(playbackId))}" alt="${html(playbackId)}" width="320" height="180" loading="lazy" onerror="this.style.visibility='hidden'">` +
      `<strong>${html(playbackId)}</strong></a> <span>${html(describe(status, now))}</span> ` +
      `<small><a href="/live/${html(playbackId)}/index.m3u8">HLS</a> · <a href="/live/${html(playbackId)}/manifest.mpd">DASH</a></small></li>`,
  );
  const first = streams[0];
  const ogImage = first ? `<meta property="og:image" content="${html(`${origin}/live/${first.playbackId}/thumbnail.jpg`)}">\n` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${FAVICON_LINK}
<title>Live now</title>
<meta property="og:title" content="Live now">
${ogImage}<style>
  body { margin: 0; background: #111; color: #eee; font: 15px/1.5 system-ui, sans-serif; }
  main { max-width: 960px; margin: 0 auto; padding: 16px; }
  a { color: #8ab4f8; }
  #streams { list-style: none; padding: 0; display: grid; grid-template-columns: repeat(auto-fill, minmax(240px, 1fr)); gap: 16px; }
  .stream { margin: 0; }
  .stream > a:first-child { display: block; text-decoration: none; }
  .stream img { display: block; width: 100%; height: auto; aspect-ratio: 16 / 9; object-fit: cover; background: #222; border-radius: 4px; }
  .stream strong { display: block; margin-top: 4px; }
  .stream span, .stream small { display: block; }
  span, small, p { color: #aaa; }
</style>
</head>
<body>
<main>
  <h1>Live now</h1>
  ${items.length > 0 ? `<ul id="streams">\n${items.join('\n')}\n</ul>` : '<p id="streams">Nobody is live right now.</p>'}
  ${listingLimited ? '<p>Only the first streams in storage were looked at.</p>' : ''}
  <p>Watch any stream at /watch/ID (add ?format=dash for DASH); playlists at /live/ID/index.m3u8 (or /live/ID.m3u8), MPD at /live/ID/manifest.mpd.</p>
</main>
</body>
</html>
`;
}
