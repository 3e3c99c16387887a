/** Pages and assets for people: the player page and the players it loads. */
import { Hono } from 'hono';
import { isStreamId } from '../../shared/stream-id.ts';
import { IMMUTABLE } from '../cache/cache-control.ts';
import { parsePlaybackQuery, segmentParameters, withParameters } from '../manifest/playback-rewrite.ts';
import { httpError } from '../errors.ts';
import { renderIndexPage } from '../player/index-page.ts';
import { renderPlayerPage } from '../player/player-page.ts';
import { STREAMS_PREFIX } from '../../shared/storage/layout.ts';
import { readStreamStatus, UnreadableStreamStatus } from '../storage/stream-status.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import type { StreamStatus } from '../../shared/stream-status.ts';

export interface PlayerAssets {
  hlsJsVersion: string;
  hlsJsSource: string;
  dashJsVersion: string;
  dashJsSource: string;
}

// The front page looks at this many streams at most (one status read each, cached for a second).
const INDEX_LISTING_LIMIT = 200;

export function pageRoutes(assets: PlayerAssets, store: ObjectStore): Hono {
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

  // Live streams, from their status documents: public ones only (a signed stream's id is for its viewers).
  routes.get('/', async (c) => {
    if (!store.listChildren) throw httpError(501, 'this storage cannot list streams; watch at /watch/ID');
    const ids = (await store.listChildren(STREAMS_PREFIX, INDEX_LISTING_LIMIT)).filter(isStreamId);
    const statuses = await Promise.all(
      ids.map((streamId) =>
        readStreamStatus(store, streamId).catch((error: unknown) => {
          if (!(error instanceof UnreadableStreamStatus)) throw error;
          console.error(`edge: ${error.message}`);
          return undefined;
        }),
      ),
    );
    const live = statuses
      .filter((status): status is StreamStatus => status !== undefined && (status.state === 'live' || status.state === 'reconnecting') && status.playback !== 'signed')
      .sort((a, b) => b.startedAt - a.startedAt);
    return c.html(renderIndexPage(live, Date.now(), ids.length >= INDEX_LISTING_LIMIT), 200, { 'cache-control': 'public, max-age=5' });
  });

  return routes;
}
