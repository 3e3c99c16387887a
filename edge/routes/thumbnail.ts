/**
 * `/live/ID/thumbnail.jpg` and `/live/ID/thumbnail.webp`: the stream's newest thumbnail (the last
 * one once it ended), with `?width=`/`?height=` answered by the nearest stored width that is not
 * smaller (the sidecar stores 320 and 640 beside the full size, each as JPEG and WebP; the edge
 * decodes nothing), Cache-Control from the picture's age, ETag/304, and a signed stream's
 * playback token checked as for its segments. The fixed-width objects are not URLs of their own.
 * The JPEG is the reference for both: its markers give the size and capture time, and the sidecar
 * stores every WebP before the JPEGs, so a WebP read after its JPEG is never the older picture.
 */
import { Hono } from 'hono';
import { IMAGE_JPEG_TYPE, IMAGE_WEBP_TYPE } from '../../shared/media-types.ts';
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
export const THUMBNAIL_WEBP_PATH = 'thumbnail.webp';

const FORMATS: Record<string, { format: 'jpeg' | 'webp'; contentType: string }> = {
  [THUMBNAIL_PATH]: { format: 'jpeg', contentType: IMAGE_JPEG_TYPE },
  [THUMBNAIL_WEBP_PATH]: { format: 'webp', contentType: IMAGE_WEBP_TYPE },
};

export function thumbnailRoutes(options: ThumbnailRouteOptions): Hono {
  const { store } = options;
  const now = options.now ?? Date.now;
  const routes = new Hono();

  async function bytesOf(key: string): Promise<{ bytes: Uint8Array<ArrayBuffer>; etag: string } | undefined> {
    const object = await store.get(key);
    return object ? { bytes: new Uint8Array(await new Response(object.body).arrayBuffer()), etag: object.etag } : undefined;
  }

  /** The WebP of that width (else of the full size); a 404 when the sidecar stored none (one without WebP: the JPEG is there). */
  async function webpOf(playbackId: string, width: number | undefined): Promise<{ bytes: Uint8Array<ArrayBuffer>; etag: string }> {
    const scaled = width === undefined ? undefined : await bytesOf(streamObjectKey(playbackId, { kind: 'thumbnail', width, format: 'webp' }));
    const picture = scaled ?? (await bytesOf(streamObjectKey(playbackId, { kind: 'thumbnail', format: 'webp' })));
    if (!picture) throw httpError(404, 'no WebP thumbnail for this stream (its sidecar stores JPEG only): ask for thumbnail.jpg');
    return picture;
  }

  routes.get('/:playbackId/:file{thumbnail[^/]*}', async (c) => {
    const playbackId = c.req.param('playbackId');
    if (!isPlaybackId(playbackId)) throw httpError(400, 'invalid stream id');
    const asked = FORMATS[c.req.param('file')];
    if (!asked) throw httpError(404, 'no such object in a stream');
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
    const picture = asked.format === 'jpeg' ? ((width !== undefined ? await bytesOf(streamObjectKey(playbackId, { kind: 'thumbnail', width })) : undefined) ?? full) : await webpOf(playbackId, width);
    const headers = {
      'content-type': asked.contentType,
      'cache-control': thumbnailCacheControl({ capturedAt: facts?.capturedAt, now: now(), state: status.state, tokenSecondsLeft }),
      etag: `"${picture.etag}"`,
    };
    if (ifNoneMatchHits(c.req.header('if-none-match'), headers.etag)) return new Response(null, { status: 304, headers: { etag: headers.etag, 'cache-control': headers['cache-control'] } });
    return new Response(picture.bytes, { headers: { ...headers, 'content-length': String(picture.bytes.byteLength) } });
  });

  return routes;
}
