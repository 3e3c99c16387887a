/**
 * The webhook delivery log, `GET /api/v1/webhooks/deliveries?limit=&before=&stream=`: newest
 * first, each delivery's event, endpoint, status (pending, delivered, failed), attempts and the
 * last answer or error. Admin token as for /api/v1/streams.
 */
import { Hono } from 'hono';
import { isPlaybackId } from '../../shared/playback-id.ts';
import { httpError } from '../errors.ts';
import { MAX_PAGE_LIMIT } from '../platform/stream-input.ts';
import type { WebhookLog } from '../platform/webhook-log.ts';
import { adminAuth } from './admin-auth.ts';

export const WEBHOOK_LOG_PREFIX = '/api/v1/webhooks';

export function webhookLogRoutes(options: { log: WebhookLog | undefined; adminToken: string | undefined }): Hono {
  const routes = new Hono();
  routes.use('*', adminAuth(options.adminToken));
  routes.get('/deliveries', async (c) => {
    if (!options.log) throw httpError(503, 'this edge has no webhook log (no registry database)');
    const limitText = c.req.query('limit') ?? '50';
    const beforeText = c.req.query('before');
    const stream = c.req.query('stream');
    const limit = Number(limitText);
    if (!/^\d{1,4}$/.test(limitText) || limit < 1 || limit > MAX_PAGE_LIMIT) throw httpError(400, `limit must be a whole number from 1 to ${MAX_PAGE_LIMIT}`);
    if (beforeText !== undefined && !/^\d{1,15}$/.test(beforeText)) throw httpError(400, 'before must be a delivery id');
    if (stream !== undefined && !isPlaybackId(stream)) throw httpError(400, 'stream must be a playback id');
    const deliveries = await options.log.list({ limit: limit + 1, before: beforeText === undefined ? undefined : Number(beforeText), playbackId: stream });
    const page = deliveries.slice(0, limit);
    return c.json({ deliveries: page, nextBefore: deliveries.length > limit ? page.at(-1)!.id : null });
  });
  return routes;
}
