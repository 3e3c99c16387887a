/**
 * Viewer routes: `/live/ID/<path>` serves the stream's objects from storage with the headers a
 * CDN and a player need (content type, Cache-Control, ETag/304, byte ranges on segments);
 * `/live/ID.m3u8` is the multivariant playlist at the blog's URL. This file is the table: which
 * paths there are, who may read each kind of object, and which handler family answers it
 * (playback/: playlists, mpd, media-objects, status).
 */
import { Hono } from 'hono';
import { parseStreamRelativePath, type StreamObjectKind, type StreamObjectRef } from '../../shared/storage/layout.ts';
import { isPlaybackId } from '../../shared/playback-id.ts';
import { httpError } from '../errors.ts';
import { storedObjectResponse, partResponse } from './playback/media-objects.ts';
import { mpdResponse } from './playback/mpd.ts';
import { blogMultivariantResponse, mediaPlaylistResponse, multivariantResponse } from './playback/playlists.ts';
import { privateToViewer, startingBroadcast } from './playback/responses.ts';
import { statusResponse } from './playback/status.ts';
import { authorizeViewer } from './playback/viewer-access.ts';
import type { ObjectRequest, PlaybackDeps, PlaybackRouteOptions, ViewerRequest } from './playback/viewer-request.ts';

export type { PlaybackRouteOptions } from './playback/viewer-request.ts';

/** How one kind of object under `/live/ID/` is answered. */
type ObjectRoute<Ref extends StreamObjectRef> =
  /** Anyone: the status document is public (it says whether playback needs a token). */
  | { access: 'public'; answer: (deps: PlaybackDeps, request: ObjectRequest<Ref>) => Promise<Response> }
  /**
   * A viewer of the stream (a signed stream's token checked). `waitsForBroadcast`: a 404 while a
   * new broadcast starts (its playlists exist only once its status says `live`; storage may still
   * hold the previous broadcast's).
   */
  | { access: 'viewer'; waitsForBroadcast: boolean; answer: (deps: PlaybackDeps, request: ViewerRequest<Ref>) => Promise<Response> };

type ObjectRoutes = { [Kind in StreamObjectKind]: ObjectRoute<Extract<StreamObjectRef, { kind: Kind }>> };

/** The table of `/live/ID/<path>`: the path's kind (shared/storage/layout.ts) decides. */
const OBJECT_ROUTES: ObjectRoutes = {
  status: { access: 'public', answer: statusResponse },
  multivariant: { access: 'viewer', waitsForBroadcast: true, answer: multivariantResponse },
  // From the low-latency live state (blocking reloads too) while it has the stream, else storage.
  'media-playlist': { access: 'viewer', waitsForBroadcast: true, answer: mediaPlaylistResponse },
  mpd: { access: 'viewer', waitsForBroadcast: true, answer: mpdResponse },
  init: { access: 'viewer', waitsForBroadcast: false, answer: storedObjectResponse },
  // From storage, or from the live state's parts while storage has not got it yet.
  segment: { access: 'viewer', waitsForBroadcast: false, answer: storedObjectResponse },
  part: { access: 'viewer', waitsForBroadcast: false, answer: partResponse },
  // As stored; the thumbnail routes, mounted before these, answer its URL with sizes and their own caching.
  thumbnail: { access: 'viewer', waitsForBroadcast: false, answer: storedObjectResponse },
};

/** The route of a parsed path's kind. (TypeScript cannot tie an indexed entry to its key's type: the table's type does.) */
function routeFor<Ref extends StreamObjectRef>(ref: Ref): ObjectRoute<Ref> {
  return OBJECT_ROUTES[ref.kind] as unknown as ObjectRoute<Ref>;
}

export function playbackRoutes(options: PlaybackRouteOptions): Hono {
  const deps: PlaybackDeps = { ...options, now: options.now ?? Date.now };
  const routes = new Hono();

  routes.get('/:file{[A-Za-z0-9_-]+\\.m3u8}', async (c) => {
    const playbackId = c.req.param('file').slice(0, -'.m3u8'.length);
    if (!isPlaybackId(playbackId)) throw httpError(400, 'invalid stream id');
    const { query, status, tokenExpiresAt } = await authorizeViewer(deps, c, playbackId);
    if (status.state === 'starting') throw startingBroadcast();
    const response = await blogMultivariantResponse(deps, c, playbackId, query);
    return tokenExpiresAt === undefined ? response : privateToViewer(response, 'multivariant', tokenExpiresAt, deps.now());
  });

  routes.get('/:playbackId/:path{.+}', async (c) => {
    const playbackId = c.req.param('playbackId');
    if (!isPlaybackId(playbackId)) throw httpError(400, 'invalid stream id');
    const path = c.req.param('path');
    const ref = parseStreamRelativePath(path);
    if (!ref) throw httpError(404, 'no such object in a stream');
    const route = routeFor(ref);
    if (route.access === 'public') return route.answer(deps, { c, playbackId, path, ref });
    const { query, status, tokenExpiresAt } = await authorizeViewer(deps, c, playbackId);
    if (status.state === 'starting' && route.waitsForBroadcast) throw startingBroadcast();
    const response = await route.answer(deps, { c, playbackId, path, ref, query, status });
    return tokenExpiresAt === undefined ? response : privateToViewer(response, ref.kind, tokenExpiresAt, deps.now());
  });

  return routes;
}
