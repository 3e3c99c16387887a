/** Responses and refusals every playback handler family shares. */
import type { Context } from 'hono';
import type { StreamObjectKind } from '../../../shared/storage/layout.ts';
import { signedCacheControlFor } from '../../cache/cache-control.ts';
import { httpError } from '../../errors.ts';
import { ifNoneMatchHits } from '../../http/conditional.ts';

/**
 * The response, or a 304 when the client's copy is current: with the validators and caching a
 * 200 would have carried (RFC 9110, 15.4.5), and without reading a body it will not send.
 */
export async function conditionalResponse(c: Context, body: string | ReadableStream<Uint8Array>, headers: Record<string, string>, status = 200): Promise<Response> {
  if (ifNoneMatchHits(c.req.header('if-none-match'), headers.etag!)) {
    if (typeof body !== 'string') await body.cancel();
    return new Response(null, { status: 304, headers: { etag: headers.etag!, 'cache-control': headers['cache-control']! } });
  }
  return new Response(body, { status, headers });
}

/** A new broadcast's playlists exist only once its status says `live`: storage may still hold the previous broadcast's. */
export function startingBroadcast() {
  return httpError(404, 'the stream is starting: nothing to play yet, try again in a few seconds');
}

/** A 404 (sent no-store, like every error) that a CDN must not keep: the object may exist a moment later. */
export function notYetAvailable() {
  return httpError(404, 'not found (yet): the stream may not be live, or this object is not written yet');
}

export function unsatisfiable(size: number): Response {
  return new Response(JSON.stringify({ error: 'range not satisfiable' }), {
    status: 416,
    headers: { 'content-range': `bytes */${size}`, 'content-type': 'application/json', 'cache-control': 'no-store' },
  });
}

/**
 * A signed stream's response as no shared cache may keep it (see signedCacheControlFor); its
 * playlists lose their validator too (each viewer's body differs by its token, and it is never stored).
 */
export function privateToViewer(response: Response, kind: StreamObjectKind, tokenExpiresAt: number, now: number): Response {
  const headers = new Headers(response.headers);
  headers.set('cache-control', signedCacheControlFor(kind, tokenExpiresAt - now / 1000));
  if (kind !== 'init' && kind !== 'segment' && kind !== 'part') headers.delete('etag');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}
