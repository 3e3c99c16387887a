/**
 * Viewer routes: `/live/ID/<path>` serves the stream's objects from storage with the headers a
 * CDN and a player need (content type, Cache-Control, ETag/304, byte ranges on segments);
 * `/live/ID.m3u8` is the multivariant playlist at the blog's URL.
 */
import { Hono, type Context } from 'hono';
import { summarizeMediaPlaylist } from '../../shared/hls/media-playlist.ts';
import { summarizeMpd } from '../../shared/dash/mpd.ts';
import { parseMultivariantPlaylist, renderMultivariantPlaylist } from '../../shared/hls/multivariant-playlist.ts';
import { verifyPlaybackToken } from '../../shared/playback-token.ts';
import { DASH_MPD_TYPE, HLS_PLAYLIST_TYPE, JSON_TYPE } from '../../shared/media-types.ts';
import { parseStreamRelativePath, streamObjectKey, streamRelativePath, type StreamObjectKind, type StreamObjectRef } from '../../shared/storage/layout.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import { isStreamId } from '../../shared/stream-id.ts';
import { cacheControlFor, IMMUTABLE, signedCacheControlFor } from '../cache/cache-control.ts';
import { httpError, TemporarilyUnavailable } from '../errors.ts';
import { ifNoneMatchHits } from '../http/conditional.ts';
import { contentRange, decideRange } from '../http/range.ts';
import { parsePlaybackQuery, rewriteMediaPlaylist, rewriteMpd, rewriteMultivariant, type PlaybackQuery } from '../manifest/playback-rewrite.ts';
import { prefixRelativeUris } from '../manifest/rewrite-uris.ts';
import { readStreamStatus, UnreadableStreamStatus } from '../storage/stream-status.ts';
import type { StreamStatus } from '../../shared/stream-status.ts';
import { parseDeliveryDirectives } from '../manifest/delivery-directives.ts';
import type { LowLatencyCoordinator } from '../low-latency/coordinator.ts';
import { clientAddress } from '../low-latency/client-address.ts';

/**
 * The response, or a 304 when the client's copy is current: with the validators and caching a
 * 200 would have carried (RFC 9110, 15.4.5), and without reading a body it will not send.
 */
async function conditionalResponse(c: Context, body: string | ReadableStream<Uint8Array>, headers: Record<string, string>, status = 200): Promise<Response> {
  if (ifNoneMatchHits(c.req.header('if-none-match'), headers.etag!)) {
    if (typeof body !== 'string') await body.cancel();
    return new Response(null, { status: 304, headers: { etag: headers.etag!, 'cache-control': headers['cache-control']! } });
  }
  return new Response(body, { status, headers });
}

/** A new broadcast's playlists exist only once its status says `live`: storage may still hold the previous broadcast's. */
function startingBroadcast() {
  return httpError(404, 'the stream is starting: nothing to play yet, try again in a few seconds');
}

const PLAYLIST_KINDS: ReadonlySet<StreamObjectKind> = new Set(['multivariant', 'media-playlist', 'mpd']);

/** A 404 (sent no-store, like every error) that a CDN must not keep: the object may exist a moment later. */
function notYetAvailable() {
  return httpError(404, 'not found (yet): the stream may not be live, or this object is not written yet');
}

export interface PlaybackRouteOptions {
  store: ObjectStore;
  playbackSecret?: string;
  /** CDN base for segments (`…/live/`): a stream's objects are under `BASE ID/REND/`. */
  segmentBaseUrl?: string;
  now?: () => number;
  /** Low-latency live state: media playlists of streams that announce parts come from it. */
  lowLatency?: LowLatencyCoordinator;
}

/** A rewritten body's validator: the stored object's, qualified by what changed it. */
function derivedEtag(etag: string, variant: string): string {
  return variant === '' ? `"${etag}"` : `W/"${etag}-${variant}"`;
}

/** The parts of a viewer's query that change a manifest's body, as a short stable string (a token only as a digest: never in a header). */
function querySignature(query: PlaybackQuery, alias: boolean): string {
  const parts = [alias ? 'alias' : '', query.token === undefined ? '' : `t${fnv1a(query.token)}`, query.maxHeight ?? '', query.dvrSeconds ?? ''];
  return parts.every((part) => part === '') ? '' : parts.join('.');
}

/** FNV-1a, 32 bits, hex: tells bodies apart; not a secret's protection (signed playlists carry no ETag at all). */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index += 1) hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193);
  return (hash >>> 0).toString(16);
}

/**
 * A signed stream's response as no shared cache may keep it (see signedCacheControlFor); its
 * playlists lose their validator too (each viewer's body differs by its token, and it is never stored).
 */
function privateToViewer(response: Response, kind: StreamObjectKind, tokenExpiresAt: number, now: number): Response {
  const headers = new Headers(response.headers);
  headers.set('cache-control', signedCacheControlFor(kind, tokenExpiresAt - now / 1000));
  if (kind !== 'init' && kind !== 'segment' && kind !== 'part') headers.delete('etag');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

export function playbackRoutes(options: PlaybackRouteOptions): Hono {
  const { store } = options;
  const now = options.now ?? Date.now;
  const routes = new Hono();

  /**
   * Whether this viewer may have this stream's objects: a signed stream needs a valid token.
   * No readable status document means the stream never started: nothing to serve yet.
   */
  async function authorize(c: Context, streamId: string): Promise<{ query: PlaybackQuery; status: StreamStatus; tokenExpiresAt?: number }> {
    const parsed = parsePlaybackQuery(new URL(c.req.url).searchParams);
    if (!parsed.ok) throw httpError(400, parsed.reason);
    const status = await readStreamStatus(store, streamId).catch((error: unknown) => {
      if (!(error instanceof UnreadableStreamStatus)) throw error;
      // Not a 404: the stream exists, and a viewer (or a CDN) must not take it for one not started.
      console.error(`edge: ${error.message}`);
      throw httpError(502, "this stream's status at the origin is unreadable");
    });
    if (!status) throw notYetAvailable();
    if (status.playback === 'signed') {
      if (!options.playbackSecret) throw httpError(503, 'this stream needs signed playback, and the edge has no PLAYBACK_SECRET');
      const check = await verifyPlaybackToken(options.playbackSecret, parsed.query.token, streamId, now());
      if (!check.ok) throw httpError(check.status, check.reason);
      return { query: parsed.query, status, tokenExpiresAt: check.expiresAt };
    }
    return { query: parsed.query, status };
  }

  function segmentBase(streamId: string, rendition?: string): string | undefined {
    if (!options.segmentBaseUrl) return undefined;
    return `${options.segmentBaseUrl}${streamId}/${rendition ? `${rendition}/` : ''}`;
  }

  async function playlistResponse(c: Context, streamId: string, ref: StreamObjectRef, query: PlaybackQuery, alias = false) {
    const object = await store.get(streamObjectKey(streamId, ref));
    if (!object) throw notYetAvailable();
    const stored = await new Response(object.body).text();
    let text = stored;
    let signature = querySignature(query, alias);
    if (ref.kind === 'multivariant') {
      if (signature !== '') text = renderMultivariantPlaylist(rewriteMultivariant(parseMultivariantPlaylist(stored), query));
      if (alias) text = prefixRelativeUris(text, `${streamId}/`);
    } else if (ref.kind === 'media-playlist') {
      // Every media playlist goes through the rewrite: an ended one is served as VOD.
      text = rewriteMediaPlaylist(stored, query, { segmentBaseUrl: segmentBase(streamId, ref.rendition) });
      if (options.segmentBaseUrl) signature += '.cdn';
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
  async function lowLatencyPlaylistResponse(c: Context, streamId: string, rendition: string, query: PlaybackQuery, status: StreamStatus): Promise<Response | undefined> {
    const lowLatency = options.lowLatency;
    const parsed = parseDeliveryDirectives(new URL(c.req.url).searchParams);
    if (!parsed.ok) throw httpError(400, parsed.reason);
    if (!lowLatency || !status.lowLatency || status.state === 'ended') return undefined;
    const { block, skip } = parsed.directives;
    const answer = await lowLatency.playlist(streamId, {
      rendition,
      block,
      skip,
      listed: status.renditions.some((listed) => listed.name === rendition),
      // Fixed for the stream's life: the playlists' server control is computed from these alone.
      facts: { targetDuration: status.targetDuration, partTarget: status.lowLatency.partTarget },
      client: clientAddress({ env: c.env, header: (name) => c.req.header(name) }),
    });
    if (answer.kind === 'unknown') return undefined;
    if (answer.kind === 'no-such-rendition') throw httpError(404, `this stream has no rendition "${rendition}"`);
    if (answer.kind === 'too-far') throw httpError(400, answer.reason);
    if (answer.kind === 'busy') throw new TemporarilyUnavailable(answer.reason, answer.retryAfterSeconds);
    if (answer.kind === 'timeout') throw httpError(503, 'the part or segment asked for did not appear in time: the stream may have stalled');
    const text = rewriteMediaPlaylist(answer.text, query, { segmentBaseUrl: segmentBase(streamId, rendition) });
    // A blocking answer is a playlist at least as new as its URL asks for: any cache may keep it
    // (the URL of a newer one differs). A plain request gets the live playlist's short life.
    // (The live state knows the playlist's facts: the text is not scanned again per viewer.)
    const cacheControl = block && !answer.ended ? `public, max-age=${6 * answer.targetDuration}` : cacheControlFor('media-playlist', answer);
    return new Response(text, { headers: { 'content-type': HLS_PLAYLIST_TYPE, 'cache-control': cacheControl } });
  }

  /**
   * A low-latency part from the live state, by rendition and name (renditions share part names);
   * the hinted next part is held until it exists, a 404 at once when it will not come.
   */
  async function partResponse(c: Context, streamId: string, rendition: string, file: string): Promise<Response> {
    const client = clientAddress({ env: c.env, header: (name) => c.req.header(name) });
    const answer = options.lowLatency ? await options.lowLatency.part(streamId, rendition, file, client) : ({ kind: 'missing' } as const);
    if (answer.kind === 'busy') throw new TemporarilyUnavailable(answer.reason, answer.retryAfterSeconds);
    if (answer.kind === 'missing') throw httpError(404, 'no such part: parts exist only near the live edge, for a few target durations');
    return new Response(answer.bytes, {
      headers: { 'content-type': answer.contentType, 'content-length': String(answer.bytes.byteLength), 'cache-control': IMMUTABLE },
    });
  }

  async function segmentResponse(c: Context, streamId: string, ref: StreamObjectRef) {
    const key = streamObjectKey(streamId, ref);
    const rangeHeader = c.req.header('range');
    // A ranged request needs the size first; a whole-object request reads it with the bytes.
    const metadata = rangeHeader === undefined ? undefined : await store.head(key);
    if (rangeHeader !== undefined && !metadata) return liveSegmentResponse(c, streamId, ref, rangeHeader);
    const range = metadata ? decideRange(rangeHeader, metadata.size) : ({ kind: 'whole' } as const);
    if (range.kind === 'unsatisfiable') return unsatisfiable(metadata!.size);
    const object = await store.get(key, range.kind === 'partial' ? range : undefined);
    if (!object) return liveSegmentResponse(c, streamId, ref, rangeHeader);
    const headers: Record<string, string> = {
      'content-type': object.contentType ?? 'video/mp4',
      'cache-control': cacheControlFor(ref.kind),
      etag: `"${object.etag}"`,
      'accept-ranges': 'bytes',
    };
    if (range.kind === 'partial') {
      headers['content-range'] = contentRange(range.offset, range.length, object.size);
      headers['content-length'] = String(range.length);
      return conditionalResponse(c, object.body, headers, 206);
    }
    headers['content-length'] = String(object.size);
    return conditionalResponse(c, object.body, headers);
  }

  function unsatisfiable(size: number): Response {
    return new Response(JSON.stringify({ error: 'range not satisfiable' }), {
      status: 416,
      headers: { 'content-range': `bytes */${size}`, 'content-type': 'application/json', 'cache-control': 'no-store' },
    });
  }

  /**
   * A media segment storage does not have yet, that the low-latency live state listed from its
   * parts (the sidecar is still storing it): the parts' bytes end to end, which are exactly the
   * bytes storage gets under this name, hence `immutable` as from storage. Ranges and HEAD are
   * answered from the same bytes. No ETag: storage's validator for these bytes does not exist
   * yet, and one of ours would not match it (a revalidation would only fetch the bytes again).
   */
  async function liveSegmentResponse(c: Context, streamId: string, ref: StreamObjectRef, rangeHeader: string | undefined): Promise<Response> {
    if (ref.kind !== 'segment' || !options.lowLatency) throw notYetAvailable();
    const answer = await options.lowLatency.segment(streamId, ref.rendition, streamRelativePath(ref).slice(ref.rendition.length + 1));
    if (answer.kind === 'missing') throw notYetAvailable();
    const { bytes } = answer;
    const range = decideRange(rangeHeader, bytes.byteLength);
    if (range.kind === 'unsatisfiable') return unsatisfiable(bytes.byteLength);
    const headers: Record<string, string> = { 'content-type': answer.contentType, 'cache-control': cacheControlFor(ref.kind), 'accept-ranges': 'bytes' };
    if (range.kind === 'partial') {
      headers['content-range'] = contentRange(range.offset, range.length, bytes.byteLength);
      headers['content-length'] = String(range.length);
      return new Response(bytes.slice(range.offset, range.offset + range.length), { status: 206, headers });
    }
    headers['content-length'] = String(bytes.byteLength);
    return new Response(bytes, { headers });
  }

  /** The DASH MPD: cached like a live playlist while dynamic, longer once static (ended). */
  async function mpdResponse(c: Context, streamId: string, query: PlaybackQuery) {
    const object = await store.get(streamObjectKey(streamId, { kind: 'mpd' }));
    if (!object) throw notYetAvailable();
    const stored = await new Response(object.body).text();
    const text = rewriteMpd(stored, query, { segmentBaseUrl: segmentBase(streamId) });
    const headers = {
      'content-type': DASH_MPD_TYPE,
      'cache-control': cacheControlFor('mpd', summarizeMpd(text)),
      etag: derivedEtag(object.etag, text === stored ? '' : `${querySignature(query, false)}${options.segmentBaseUrl ? '.cdn' : ''}`),
    };
    return conditionalResponse(c, text, headers);
  }

  /** The stream's status document (live, reconnecting or ended; renditions): public, short-lived. */
  async function statusResponse(c: Context, streamId: string) {
    const object = await store.get(streamObjectKey(streamId, { kind: 'status' }));
    if (!object) throw httpError(404, 'no such stream (it has never been live)');
    const headers = { 'content-type': JSON_TYPE, 'cache-control': cacheControlFor('status'), etag: `"${object.etag}"` };
    return conditionalResponse(c, object.body, headers);
  }

  // The blog's URL: the multivariant playlist one level up, so its relative URIs need the id.
  routes.get('/:file{[A-Za-z0-9_-]+\\.m3u8}', async (c) => {
    const streamId = c.req.param('file').slice(0, -'.m3u8'.length);
    if (!isStreamId(streamId)) throw httpError(400, 'invalid stream id');
    const { query, status, tokenExpiresAt } = await authorize(c, streamId);
    if (status.state === 'starting') throw startingBroadcast();
    const response = await playlistResponse(c, streamId, { kind: 'multivariant' }, query, true);
    return tokenExpiresAt === undefined ? response : privateToViewer(response, 'multivariant', tokenExpiresAt, now());
  });

  routes.get('/:streamId/:path{.+}', async (c) => {
    const streamId = c.req.param('streamId');
    if (!isStreamId(streamId)) throw httpError(400, 'invalid stream id');
    const ref = parseStreamRelativePath(c.req.param('path'));
    if (!ref) throw httpError(404, 'no such object in a stream');
    // The status document is public (it says whether playback needs a token).
    if (ref.kind === 'status') return statusResponse(c, streamId);
    const { query, status, tokenExpiresAt } = await authorize(c, streamId);
    if (status.state === 'starting' && PLAYLIST_KINDS.has(ref.kind)) throw startingBroadcast();
    const response = await viewerResponse(c, streamId, c.req.param('path'), ref, query, status);
    return tokenExpiresAt === undefined ? response : privateToViewer(response, ref.kind, tokenExpiresAt, now());
  });

  async function viewerResponse(c: Context, streamId: string, path: string, ref: StreamObjectRef, query: PlaybackQuery, status: StreamStatus): Promise<Response> {
    if (ref.kind === 'media-playlist') {
      const live = await lowLatencyPlaylistResponse(c, streamId, ref.rendition, query, status);
      if (live) return live;
    }
    if (ref.kind === 'multivariant' || ref.kind === 'media-playlist') return playlistResponse(c, streamId, ref, query);
    if (ref.kind === 'mpd') return mpdResponse(c, streamId, query);
    if (ref.kind === 'part') return partResponse(c, streamId, ref.rendition, path.slice(ref.rendition.length + 1));
    return segmentResponse(c, streamId, ref);
  }

  return routes;
}
