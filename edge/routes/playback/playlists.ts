/**
 * HLS playlists: the multivariant playlist (also at the blog's URL, one level up) and media
 * playlists, from storage or, for streams that announce parts, from the low-latency live state
 * (at once, or held for a blocking reload until it holds what the URL asks for).
 */
import type { Context } from 'hono';
import { summarizeMediaPlaylist } from '../../../shared/hls/media-playlist.ts';
import { parseMultivariantPlaylist, renderMultivariantPlaylist } from '../../../shared/hls/multivariant-playlist.ts';
import { HLS_PLAYLIST_TYPE } from '../../../shared/media-types.ts';
import { streamObjectKey } from '../../../shared/storage/layout.ts';
import { cacheControlFor } from '../../cache/cache-control.ts';
import { httpError, TemporarilyUnavailable } from '../../errors.ts';
import { clientAddress } from '../../low-latency/client-address.ts';
import { parseDeliveryDirectives } from '../../manifest/delivery-directives.ts';
import { rewriteMediaPlaylist, rewriteMultivariant, type PlaybackQuery } from '../../manifest/playback-rewrite.ts';
import { prefixRelativeUris } from '../../manifest/rewrite-uris.ts';
import { conditionalResponse, notYetAvailable } from './responses.ts';
import { derivedEtag, querySignature } from './validators.ts';
import { segmentBase, type PlaybackDeps, type ViewerRequest } from './viewer-request.ts';

type PlaylistRef = { kind: 'multivariant' } | { kind: 'media-playlist'; rendition: string };

/** `/live/ID/index.m3u8`. */
export function multivariantResponse(deps: PlaybackDeps, { c, playbackId, ref, query }: ViewerRequest<{ kind: 'multivariant' }>): Promise<Response> {
  return storedPlaylistResponse(deps, c, playbackId, ref, query, false);
}

/** The blog's URL, `/live/ID.m3u8`: the multivariant playlist one level up, so its relative URIs need the id. */
export function blogMultivariantResponse(deps: PlaybackDeps, c: Context, playbackId: string, query: PlaybackQuery): Promise<Response> {
  return storedPlaylistResponse(deps, c, playbackId, { kind: 'multivariant' }, query, true);
}

/** `/live/ID/REND/index.m3u8`: from the live state while it has the stream, else from storage. */
export async function mediaPlaylistResponse(deps: PlaybackDeps, request: ViewerRequest<{ kind: 'media-playlist'; rendition: string }>): Promise<Response> {
  const live = await lowLatencyPlaylistResponse(deps, request);
  return live ?? storedPlaylistResponse(deps, request.c, request.playbackId, request.ref, request.query, false);
}

async function storedPlaylistResponse(deps: PlaybackDeps, c: Context, playbackId: string, ref: PlaylistRef, query: PlaybackQuery, alias: boolean): Promise<Response> {
  const object = await deps.store.get(streamObjectKey(playbackId, ref));
  if (!object) throw notYetAvailable();
  const stored = await new Response(object.body).text();
  let text = stored;
  let signature = querySignature(query, alias);
  if (ref.kind === 'multivariant') {
    if (signature !== '') text = renderMultivariantPlaylist(rewriteMultivariant(parseMultivariantPlaylist(stored), query));
    if (alias) text = prefixRelativeUris(text, `${playbackId}/`);
  } else {
    // Every media playlist goes through the rewrite: an ended one is served as VOD.
    text = rewriteMediaPlaylist(stored, query, { segmentBaseUrl: segmentBase(deps.segmentBaseUrl, playbackId, ref.rendition) });
    if (deps.segmentBaseUrl) signature += '.cdn';
  }
  const headers = {
    'content-type': HLS_PLAYLIST_TYPE,
    'cache-control': ref.kind === 'media-playlist' ? cacheControlFor(ref.kind, summarizeMediaPlaylist(stored)) : cacheControlFor(ref.kind),
    etag: derivedEtag(object.etag, text === stored ? '' : signature || 'vod'),
  };
  return conditionalResponse(c, text, headers);
}

/**
 * A media playlist from the low-latency live state: at once, or held until it holds the part
 * or segment asked for (never an older one). Undefined: no live state, storage answers.
 * A rendition the stream does not have is a 404 at once, never held.
 */
async function lowLatencyPlaylistResponse(deps: PlaybackDeps, { c, playbackId, ref, query, status }: ViewerRequest<{ kind: 'media-playlist'; rendition: string }>): Promise<Response | undefined> {
  const { lowLatency } = deps;
  const { rendition } = ref;
  const parsed = parseDeliveryDirectives(new URL(c.req.url).searchParams);
  if (!parsed.ok) throw httpError(400, parsed.reason);
  if (!lowLatency || !status.lowLatency || status.state === 'ended') return undefined;
  const { block, skip } = parsed.directives;
  const answer = await lowLatency.playlist(playbackId, {
    rendition,
    block,
    skip,
    listed: status.renditions.some((listed) => listed.name === rendition),
    // Fixed for the stream's life: the playlists' server control is computed from these alone.
    facts: { targetDuration: status.targetDuration, partTarget: status.lowLatency.partTarget },
    client: clientAddress({ env: c.env, header: (name) => c.req.header(name) }),
  }, { keepAlive: deps.keepAlive?.(c) });
  if (answer.kind === 'unknown') return undefined;
  if (answer.kind === 'no-such-rendition') throw httpError(404, `this stream has no rendition "${rendition}"`);
  if (answer.kind === 'too-far') throw httpError(400, answer.reason);
  if (answer.kind === 'busy') throw new TemporarilyUnavailable(answer.reason, answer.retryAfterSeconds);
  if (answer.kind === 'timeout') throw httpError(503, 'the part or segment asked for did not appear in time: the stream may have stalled');
  const text = rewriteMediaPlaylist(answer.text, query, { segmentBaseUrl: segmentBase(deps.segmentBaseUrl, playbackId, rendition) });
  // A blocking answer is a playlist at least as new as its URL asks for: any cache may keep it
  // (the URL of a newer one differs). A plain request gets the live playlist's short life.
  // (The live state knows the playlist's facts: the text is not scanned again per viewer.)
  const cacheControl = block && !answer.ended ? `public, max-age=${6 * answer.targetDuration}` : cacheControlFor('media-playlist', answer);
  return new Response(text, { headers: { 'content-type': HLS_PLAYLIST_TYPE, 'cache-control': cacheControl } });
}
