/**
 * `/live/ID/thumbnail.jpg`: the stream's newest thumbnail (the last one once it ended), with
 * `?width=`/`?height=` answered by the nearest stored width that is not smaller (the sidecar
 * stores 320 and 640 beside the full size; the edge decodes nothing), Cache-Control from the
 * picture's age, ETag/304, and a signed stream's playback token checked as for its segments.
 * The fixed-width objects are not URLs of their own.
 */
import { Hono } from 'hono';
import { IMAGE_JPEG_TYPE } from '../../shared/media-types.ts';
import { streamObjectKey } from '../../shared/storage/layout.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import { isPlaybackId } from '../../shared/playback-id.ts';
import { readJpegFacts } from '../../shared/thumbnail/jpeg-facts.ts';
import { chooseThumbnailWidth, parseThumbnailQuery } from '../../shared/thumbnail/thumbnail-sizes.ts';
import { thumbnailCacheControl } from '../cache/thumbnail-cache-control.ts';
import { httpError } from '../errors.ts';
import { ifNoneMatchHits } from '../http/conditional.ts';
import { authorizeViewer } from './playback/viewer-access.ts';

export interface ThumbnailRouteOptions {
  store: ObjectStore;
  playbackSecret?: string;
  now?: () => number;
}

export const THUMBNAIL_PATH = 'thumbnail.jpg';

export function thumbnailRoutes(options: ThumbnailRouteOptions): Hono {
  const { store } = options;
  const now = options.now ?? Date.now;
  const routes = new Hono();

  async function bytesOf(key: string): Promise<{ bytes: Uint8Array<ArrayBuffer>; etag: string } | undefined> {
    const object = await store.get(key);
    return object ? { bytes: new Uint8Array(await new Response(object.body).arrayBuffer()), etag: object.etag } : undefined;
  }

  routes.get('/:playbackId/:file{thumbnail[^/]*}', async (c) => {
    const playbackId = c.req.param('playbackId');
    if (!isPlaybackId(playbackId)) throw httpError(400, 'invalid stream id');
    if (c.req.param('file') !== THUMBNAIL_PATH) throw httpError(404, 'no such object in a stream');
    const params = new URL(c.req.url).searchParams;
    const size = parseThumbnailQuery(params);
    if (!size.ok) throw httpError(400, size.reason);
    // Who may see the picture is who may see the stream: the same check as for its segments.
    const access = await authorizeViewer({ store, playbackSecret: options.playbackSecret, now }, c, playbackId);
    const tokenSecondsLeft = access.tokenExpiresAt === undefined ? undefined : access.tokenExpiresAt - now() / 1000;
    const { status } = access;
    const full = await bytesOf(streamObjectKey(playbackId, { kind: 'thumbnail' }));
    if (!full) throw httpError(404, 'no thumbnail yet: the first is made within seconds of the stream going live');
    const facts = readJpegFacts(full.bytes);
    const width = facts ? chooseThumbnailWidth(size.request, facts) : undefined;
    // A width not stored (yet) is answered with the full-size picture: larger, never smaller.
    const picture = (width !== undefined ? await bytesOf(streamObjectKey(playbackId, { kind: 'thumbnail', width })) : undefined) ?? full;
    const headers = {
      'content-type': IMAGE_JPEG_TYPE,
      'cache-control': thumbnailCacheControl({ capturedAt: facts?.capturedAt, now: now(), state: status.state, tokenSecondsLeft }),
      etag: `"${picture.etag}"`,
    };
    if (ifNoneMatchHits(c.req.header('if-none-match'), headers.etag)) return new Response(null, { status: 304, headers: { etag: headers.etag, 'cache-control': headers['cache-control'] } });
    return new Response(picture.bytes, { headers: { ...headers, 'content-length': String(picture.bytes.byteLength) } });
  });

  return routes;
}
