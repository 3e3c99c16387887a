/** Pages and assets for people: the player page and the players it loads. */
import { Hono } from 'hono';
import { isStreamId } from '../../shared/stream-id.ts';
import { IMMUTABLE } from '../cache/cache-control.ts';
import { parsePlaybackQuery, segmentParameters, withParameters } from '../manifest/playback-rewrite.ts';
import { httpError } from '../errors.ts';
import { renderPlayerPage } from '../player/player-page.ts';

export interface PlayerAssets {
  hlsJsVersion: string;
  hlsJsSource: string;
  dashJsVersion: string;
  dashJsSource: string;
}

export function pageRoutes(assets: PlayerAssets): Hono {
  const routes = new Hono();
  // The version in the path makes an asset immutable: a new player version gets a new URL.
  const hlsScriptUrl = `/assets/hls-${assets.hlsJsVersion}.min.js`;
  const dashScriptUrl = `/assets/dash-${assets.dashJsVersion}.min.js`;
  const script = (source: string) => () =>
    new Response(source, { headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': IMMUTABLE } });
  routes.get(hlsScriptUrl, script(assets.hlsJsSource));
  routes.get(dashScriptUrl, script(assets.dashJsSource));

  routes.get('/watch/:streamId', (c) => {
    const streamId = c.req.param('streamId');
    if (!isStreamId(streamId)) throw httpError(400, 'invalid stream id');
    const format = c.req.query('format') ?? 'hls';
    if (format !== 'hls' && format !== 'dash') throw httpError(400, 'format must be hls or dash');
    // A signed stream's page passes the viewer's token on to the manifests (which carry it further).
    const parsed = parsePlaybackQuery(new URL(c.req.url).searchParams);
    if (!parsed.ok) throw httpError(400, parsed.reason);
    const withToken = (url: string) => withParameters(url, segmentParameters(parsed.query));
    const page = renderPlayerPage({
      streamId,
      format,
      playlistUrl: withToken(`/live/${streamId}/index.m3u8`),
      mpdUrl: withToken(`/live/${streamId}/manifest.mpd`),
      statusUrl: `/live/${streamId}/status.json`,
      hlsScriptUrl,
      dashScriptUrl,
    });
    // A page holding a viewer's token is that viewer's: not for shared caches.
    return c.html(page, 200, { 'cache-control': parsed.query.token ? 'private, no-store' : 'public, max-age=60' });
  });

  routes.get('/', (c) =>
    c.text('edge origin: watch at /watch/ID (add ?format=dash for DASH), playlists at /live/ID/index.m3u8 (or /live/ID.m3u8), MPD at /live/ID/manifest.mpd\n', 200, {
      'cache-control': 'public, max-age=60',
    }),
  );

  return routes;
}
