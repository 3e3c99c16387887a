/**
 * CORS for what any web page may read without credentials (origin `*`): players on other origins
 * fetch playlists, segments, parts, recordings and the time. GET and HEAD answers get their
 * headers after the route answered, on its own Response; a preflight is answered here.
 *
 * Why not Hono's cors middleware: it sets its headers on `c.res` before the route runs, so Hono
 * then rebuilds the route's Response to merge them, which on Node turns @hono/node-server's
 * lightweight Response into a full one first, copying its bytes (a part, a segment): twice the
 * Response work and a copy per viewer request (0.8 % of the Node edge's samples with 30
 * low-latency viewers, 2026-12-07).
 */
import type { MiddlewareHandler } from 'hono';

export function openCors(options: { exposeHeaders?: readonly string[] } = {}): MiddlewareHandler {
  const expose = options.exposeHeaders?.join(',') ?? '';
  return async (c, next) => {
    if (c.req.method === 'OPTIONS') {
      const headers = new Headers({ 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET,HEAD,OPTIONS' });
      if (expose) headers.set('access-control-expose-headers', expose);
      const requested = c.req.header('access-control-request-headers');
      if (requested) {
        headers.set('access-control-allow-headers', requested.split(',').map((name) => name.trim()).join(','));
        headers.append('vary', 'Access-Control-Request-Headers');
      }
      return new Response(null, { status: 204, headers });
    }
    await next();
    c.res.headers.set('access-control-allow-origin', '*');
    if (expose) c.res.headers.set('access-control-expose-headers', expose);
  };
}
