/**
 * `GET /time`: this server's clock for players (a live MPD's UTCTiming points here). Never
 * cached: a cached time is a wrong time, and a player's idea of the live edge follows it.
 */
import { Hono } from 'hono';
import { TIME_PATH } from '../../shared/time-api.ts';
import { NO_STORE } from '../cache/cache-control.ts';

export function timeRoutes(now: () => number = Date.now): Hono {
  const routes = new Hono();
  routes.get(TIME_PATH, (c) => c.text(new Date(now()).toISOString(), 200, { 'cache-control': NO_STORE }));
  return routes;
}
