/** Pages and assets for people: the player page and the players it loads. */
import { Hono } from 'hono';
import { isPlaybackId } from '../../shared/playback-id.ts';
import { PLAYBACK_TOKEN_PARAM } from '../../shared/playback-token.ts';
import { IMMUTABLE } from '../cache/cache-control.ts';
import { parsePlaybackQuery, manifestParameters, withParameters } from '../manifest/playback-rewrite.ts';
import { httpError } from '../errors.ts';
import { FAVICON_PATH, FAVICON_SVG } from '../player/favicon.ts';
import { renderIndexPage, type LiveStream } from '../player/index-page.ts';
import { PLAYER_CLIENT_HASH, PLAYER_CLIENT_SOURCE } from '../player/client-bundle.generated.ts';
import { parsePlayerChoice, type PlayerLibrary } from '../player/client/config.ts';
import { renderPlayerPage } from '../player/player-page.ts';
import { STREAMS_PREFIX } from '../../shared/storage/layout.ts';
import { readStreamStatus, UnreadableStreamStatus } from '../storage/stream-status.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';

export interface PlayerAssets {
  hlsJsVersion: string;
  hlsJsSource: string;
  dashJsVersion: string;
  dashJsSource: string;
  /**
   * Shaka Player's compiled build, for `?player=shaka`. Every adapter serves it; apps built
   * without it (tests and benchmarks that never open the page) answer that choice with a 404.
   */
  shakaVersion?: string;
  shakaSource?: string;
}

// The front page looks at this many streams at most (one status read each).
const INDEX_LISTING_LIMIT = 200;
// How long one listing of live streams serves the front page: as long as browsers may keep it (max-age=5) or less.
const INDEX_CACHE_MS = 3_000;

/** Public streams live or reconnecting, newest first, each under the id of the storage prefix its status was read from. */
async function readLiveStreams(store: ObjectStore, listChildren: NonNullable<ObjectStore['listChildren']>): Promise<{ readAt: number; live: LiveStream[]; limited: boolean }> {
  const readAt = Date.now();
  const ids = (await listChildren(STREAMS_PREFIX, INDEX_LISTING_LIMIT)).filter(isPlaybackId);
  const entries = await Promise.all(
    ids.map(async (playbackId) => {
      const status = await readStreamStatus(store, playbackId).catch((error: unknown) => {
        if (!(error instanceof UnreadableStreamStatus)) throw error;
        console.error(`edge: ${error.message}`);
        return undefined;
      });
      // The id is the prefix's, never the document's own `playbackId`: a writer of one stream must
      // not make the front page link (or name) another.
      return status && { playbackId, status };
    }),
  );
  const live = entries
    .filter((entry): entry is LiveStream => entry !== undefined && (entry.status.state === 'live' || entry.status.state === 'reconnecting') && entry.status.playback !== 'signed')
    .sort((a, b) => b.status.startedAt - a.status.startedAt);
  return { readAt, live, limited: ids.length >= INDEX_LISTING_LIMIT };
}

export function pageRoutes(assets: PlayerAssets, store: ObjectStore): Hono {
  const routes = new Hono();
  // The version in the path makes an asset immutable: a new player version gets a new URL.
  const hlsScriptUrl = `/assets/hls-${assets.hlsJsVersion}.min.js`;
  const dashScriptUrl = `/assets/dash-${assets.dashJsVersion}.min.js`;
  const shakaScriptUrl = `/assets/shaka-player-${assets.shakaVersion}.compiled.js`;
  // The page's own script (edge/player/client/), named by its content's hash.
  const clientScriptUrl = `/assets/player-${PLAYER_CLIENT_HASH}.js`;
  const libraryScriptUrls: Record<PlayerLibrary, string> = { 'hls.js': hlsScriptUrl, 'dash.js': dashScriptUrl, shaka: shakaScriptUrl };
  const script = (source: string) => () =>
    new Response(source, { headers: { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': IMMUTABLE } });
  routes.get(hlsScriptUrl, script(assets.hlsJsSource));
  routes.get(FAVICON_PATH, () => new Response(FAVICON_SVG, { headers: { 'content-type': 'image/svg+xml', 'cache-control': 'public, max-age=86400' } }));
  // Asked for by clients that do not read the pages' <link rel="icon">: no icon, and no 404 to log.
  routes.get('/favicon.ico', () => new Response(null, { status: 204, headers: { 'cache-control': 'public, max-age=86400' } }));
  routes.get(dashScriptUrl, script(assets.dashJsSource));
  if (assets.shakaSource !== undefined) routes.get(shakaScriptUrl, script(assets.shakaSource));
  routes.get(clientScriptUrl, script(PLAYER_CLIENT_SOURCE));

  routes.get('/watch/:playbackId', (c) => {
    const playbackId = c.req.param('playbackId');
    if (!isPlaybackId(playbackId)) throw httpError(400, 'invalid stream id');
    const searchParams = new URL(c.req.url).searchParams;
    const choice = parsePlayerChoice(searchParams);
    if (!choice.ok) throw httpError(400, choice.reason);
    if (choice.player === 'shaka' && assets.shakaSource === undefined) throw httpError(404, 'this edge does not serve Shaka Player');
    // The page passes the viewer's query (token, max_height, dvr) on to the manifests, which
    // carry what their children need further.
    const parsed = parsePlaybackQuery(searchParams);
    if (!parsed.ok) throw httpError(400, parsed.reason);
    const withQuery = (url: string) => withParameters(url, manifestParameters(parsed.query));
    const page = renderPlayerPage({
      playbackId,
      format: choice.format,
      player: choice.player,
      playlistUrl: withQuery(`/live/${playbackId}/index.m3u8`),
      mpdUrl: withQuery(`/live/${playbackId}/manifest.mpd`),
      statusUrl: `/live/${playbackId}/status.json`,
      libraryScriptUrl: libraryScriptUrls[choice.player],
      clientScriptUrl,
      posterUrl: withParameters(`/live/${playbackId}/thumbnail.jpg`, parsed.query.token ? [[PLAYBACK_TOKEN_PARAM, parsed.query.token]] : []),
      ogImageUrl: parsed.query.token ? undefined : `${new URL(c.req.url).origin}/live/${playbackId}/thumbnail.jpg`,
    });
    // A page holding a viewer's token is that viewer's: not for shared caches.
    return c.html(page, 200, { 'cache-control': parsed.query.token ? 'private, no-store' : 'public, max-age=60' });
  });

  // Live streams, from their status documents: public ones only (a signed stream's id is for its viewers).
  // One listing serves every request for a few seconds (per isolate or process: a single entry),
  // so a burst of front-page requests costs one listing and one status read per stream, not each.
  let listing: { readAt: number; live: LiveStream[]; limited: boolean } | undefined;
  routes.get('/', async (c) => {
    if (!store.listChildren) throw httpError(501, 'this storage cannot list streams; watch at /watch/ID');
    if (!listing || Date.now() - listing.readAt >= INDEX_CACHE_MS) {
      // Only settled values are kept, never a promise: a Worker's request must not wait on another's I/O.
      listing = await readLiveStreams(store, store.listChildren.bind(store));
    }
    return c.html(renderIndexPage(listing.live, Date.now(), listing.limited, new URL(c.req.url).origin), 200, { 'cache-control': 'public, max-age=5' });
  });

  return routes;
}
