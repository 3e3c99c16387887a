/** The platform's front page: the streams live now, with links to watch them. Pure HTML. */
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
  streamId: string;
  status: StreamStatus;
}

/** `streams`: public streams that are live or reconnecting, newest first. */
export function renderIndexPage(streams: readonly LiveStream[], now: number, listingLimited: boolean): string {
  const items = streams.map(
    ({ streamId, status }) =>
      `<li><a href="/watch/${html(streamId)}">${html(streamId)}</a> <span>${html(describe(status, now))}</span> ` +
      `<small><a href="/live/${html(streamId)}/index.m3u8">HLS</a> · <a href="/live/${html(streamId)}/manifest.mpd">DASH</a></small></li>`,
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${FAVICON_LINK}
<title>Live now</title>
<style>
  body { margin: 0; background: #111; color: #eee; font: 15px/1.5 system-ui, sans-serif; }
  main { max-width: 960px; margin: 0 auto; padding: 16px; }
  a { color: #8ab4f8; }
  li { margin: 6px 0; }
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
