/**
 * Viewer routes: `/live/ID/<path>` serves the stream's objects from storage with the headers a
 * CDN and a player need; `/live/ID.m3u8` is the multivariant playlist at the blog's URL.
 */
import { Hono } from 'hono';
import { summarizeMediaPlaylist } from '../../shared/hls/media-playlist.ts';
import { HLS_PLAYLIST_TYPE } from '../../shared/media-types.ts';
import { parseStreamRelativePath, streamObjectKey, type StreamObjectRef } from '../../shared/storage/layout.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import { isStreamId } from '../../shared/stream-id.ts';
import { cacheControlFor } from '../cache/cache-control.ts';
import { httpError } from '../errors.ts';
import { prefixRelativeUris } from '../manifest/rewrite-uris.ts';

export function playbackRoutes(store: ObjectStore): Hono {
  const routes = new Hono();

  async function readObject(streamId: string, ref: StreamObjectRef) {
    const object = await store.get(streamObjectKey(streamId, ref));
    if (!object) throw notYetAvailable();
    return object;
  }

  async function playlistResponse(streamId: string, ref: StreamObjectRef, transform?: (text: string) => string) {
    const object = await readObject(streamId, ref);
    const text = await new Response(object.body).text();
    const cacheControl =
      ref.kind === 'media-playlist' ? cacheControlFor(ref.kind, summarizeMediaPlaylist(text)) : cacheControlFor(ref.kind);
    const body = transform ? transform(text) : text;
    return new Response(body, {
      headers: {
        'content-type': HLS_PLAYLIST_TYPE,
        'cache-control': cacheControl,
        // The alias rewrites the body, so its validator differs from the stored object's.
        etag: transform ? `W/"${object.etag}-alias"` : `"${object.etag}"`,
      },
    });
  }

  // The blog's URL: the multivariant playlist one level up, so its relative URIs need the id.
  routes.get('/:file{[A-Za-z0-9_-]+\\.m3u8}', (c) => {
    const streamId = c.req.param('file').slice(0, -'.m3u8'.length);
    if (!isStreamId(streamId)) throw httpError(400, 'invalid stream id');
    return playlistResponse(streamId, { kind: 'multivariant' }, (text) => prefixRelativeUris(text, `${streamId}/`));
  });

  routes.get('/:streamId/:path{.+}', async (c) => {
    const streamId = c.req.param('streamId');
    if (!isStreamId(streamId)) throw httpError(400, 'invalid stream id');
    const ref = parseStreamRelativePath(c.req.param('path'));
    if (!ref || ref.kind === 'status') throw httpError(404, 'no such object in a stream');
    if (ref.kind === 'multivariant' || ref.kind === 'media-playlist') return playlistResponse(streamId, ref);

    const object = await readObject(streamId, ref);
    return new Response(object.body, {
      headers: {
        'content-type': object.contentType ?? 'video/mp4',
        'content-length': String(object.size),
        'cache-control': cacheControlFor(ref.kind),
        etag: `"${object.etag}"`,
      },
    });
  });

  return routes;
}

/** A 404 (sent no-store, like every error) that a CDN must not keep: the object may exist a moment later. */
function notYetAvailable() {
  return httpError(404, 'not found (yet): the stream may not be live, or this object is not written yet');
}
