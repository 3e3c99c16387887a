/** Pages and assets for people: the player page and the hls.js it loads. */
import { Hono } from 'hono';
import { isStreamId } from '../../shared/stream-id.ts';
import { IMMUTABLE } from '../cache/cache-control.ts';
import { httpError } from '../errors.ts';
import { renderPlayerPage } from '../player/player-page.ts';

export interface PlayerAssets {
  hlsJsVersion: string;
  hlsJsSource: string;
}

export function pageRoutes(assets: PlayerAssets): Hono {
  const routes = new Hono();
  // The version in the path makes the asset immutable: a new hls.js gets a new URL.
  const hlsScriptPath = `/assets/hls-${assets.hlsJsVersion}.min.js`;

  routes.get(hlsScriptPath, (c) =>
    c.body(assets.hlsJsSource, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': IMMUTABLE }),
  );

  routes.get('/watch/:streamId', (c) => {
    const streamId = c.req.param('streamId');
    if (!isStreamId(streamId)) throw httpError(400, 'invalid stream id');
    const page = renderPlayerPage({
      streamId,
      playlistUrl: `/live/${streamId}/index.m3u8`,
      statusUrl: `/live/${streamId}/status.json`,
      hlsScriptUrl: hlsScriptPath,
    });
    return c.html(page, 200, { 'cache-control': 'public, max-age=60' });
  });

  routes.get('/', (c) =>
    c.text('edge origin: watch at /watch/ID, playlists at /live/ID/index.m3u8 (or /live/ID.m3u8)\n', 200, {
      'cache-control': 'public, max-age=60',
    }),
  );

  return routes;
}
