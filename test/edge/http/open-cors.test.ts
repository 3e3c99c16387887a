import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { describe, expect, it } from 'vitest';
import { openCors } from '../../../edge/http/open-cors.ts';

function app() {
  const routes = new Hono();
  routes.use('/open/*', openCors({ exposeHeaders: ['content-length', 'etag'] }));
  routes.get('/open/bytes', () => new Response(Uint8Array.of(1, 2, 3), { headers: { 'content-type': 'video/mp4', etag: '"x"' } }));
  routes.get('/open/missing', () => {
    throw new HTTPException(404, { message: 'no such part' });
  });
  routes.onError((error) => (error instanceof HTTPException ? error.getResponse() : new Response('internal', { status: 500 })));
  return routes;
}

describe('openCors', () => {
  it("adds its headers to the route's own answer, bytes and headers as the route made them", async () => {
    const response = await app().request('/open/bytes', { headers: { origin: 'https://player.example' } });
    expect(response.status).toBe(200);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(Uint8Array.of(1, 2, 3));
    expect(Object.fromEntries(response.headers)).toMatchObject({
      'access-control-allow-origin': '*',
      'access-control-expose-headers': 'content-length,etag',
      'content-type': 'video/mp4',
      etag: '"x"',
    });
  });

  it('adds them to an error answer too (a player reads why)', async () => {
    const response = await app().request('/open/missing');
    expect(response.status).toBe(404);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('answers a preflight itself: 204, the methods, the request headers it asked for', async () => {
    const response = await app().request('/open/bytes', { method: 'OPTIONS', headers: { origin: 'https://player.example', 'access-control-request-method': 'GET', 'access-control-request-headers': 'range, x-custom' } });
    expect(response.status).toBe(204);
    expect(Object.fromEntries(response.headers)).toMatchObject({
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'GET,HEAD,OPTIONS',
      'access-control-allow-headers': 'range,x-custom',
      vary: 'Access-Control-Request-Headers',
    });
    expect(await response.text()).toBe('');
  });
});
