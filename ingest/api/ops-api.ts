/**
 * The operations API, on its own port (loopback by default): health, live streams, disconnecting
 * a publisher, Prometheus metrics. Everything but /healthz needs the admin token.
 */
import { Hono } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { constantTimeEqual } from '../../shared/constant-time.ts';
import { MAX_TOKEN_TTL_SECONDS, mintPlaybackToken, PLAYBACK_TOKEN_PARAM } from '../../shared/playback-token.ts';
import { isPlaybackId } from '../../shared/playback-id.ts';
import type { StreamRegistry } from '../pipeline/stream-registry.ts';
import type { IngestMetrics } from './metrics.ts';

export interface OpsApiOptions {
  registry: StreamRegistry;
  metrics: IngestMetrics;
  /** Unset: only /healthz answers; the rest says how to enable it. */
  adminToken: string | undefined;
  /** Open mode ends when a stream is configured while the sidecar runs: asked on every request. */
  mode: () => 'open' | 'keyed';
  /** Mints viewers' playback tokens (POST /streams/:id/playback-tokens); unset: that answers 503. */
  playbackSecret?: string;
  now?: () => number;
}

const DEFAULT_TOKEN_TTL_SECONDS = 3600;

export function createOpsApi(options: OpsApiOptions): Hono {
  const app = new Hono();

  app.get('/healthz', (c) => c.json({ ok: true, mode: options.mode(), streamsLive: options.registry.list().length }));

  app.use('*', async (c, next) => {
    if (!options.adminToken) throw new HTTPException(503, { message: 'operations API disabled: set ADMIN_TOKEN' });
    const header = c.req.header('authorization') ?? '';
    if (!header.startsWith('Bearer ')) throw new HTTPException(401, { message: 'missing "Authorization: Bearer <ADMIN_TOKEN>"' });
    if (!constantTimeEqual(header.slice('Bearer '.length), options.adminToken)) throw new HTTPException(403, { message: 'wrong admin token' });
    await next();
  });

  app.get('/streams', (c) =>
    c.json({
      streams: options.registry.list().map((stream) => ({
        playbackId: stream.playbackId,
        name: stream.name,
        state: stream.state,
        since: new Date(stream.since).toISOString(),
        renditions: stream.renditions,
        input: { bitsPerSecond: stream.inputBitsPerSecond, framesPerSecond: stream.inputFramesPerSecond },
        encodeSpeed: stream.encodeSpeed,
        uploadLagMs: stream.uploadLagMs ?? null,
        // Restream outputs: id, url (key redacted), state, reason, reconnects, droppedBytes.
        outputs: stream.outputs,
      })),
    }),
  );

  app.delete('/streams/:id', (c) => {
    const id = c.req.param('id');
    if (!isPlaybackId(id)) throw new HTTPException(400, { message: 'invalid playback id' });
    if (!options.registry.disconnect(id)) throw new HTTPException(404, { message: 'no live stream with this playback id' });
    return c.json({ disconnected: id }, 202);
  });

  // Any playback id, live or not: a token is minted for a viewer before they press play.
  app.post('/streams/:id/playback-tokens', async (c) => {
    const id = c.req.param('id');
    if (!isPlaybackId(id)) throw new HTTPException(400, { message: 'invalid playback id' });
    if (!options.playbackSecret) throw new HTTPException(503, { message: 'set PLAYBACK_SECRET (the edge has the same) to mint playback tokens' });
    const body = (await c.req.json().catch(() => ({}))) as { ttlSeconds?: unknown };
    const ttl = body.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
    if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TOKEN_TTL_SECONDS) {
      throw new HTTPException(400, { message: `ttlSeconds must be a whole number from 1 to ${MAX_TOKEN_TTL_SECONDS}` });
    }
    const expiresAt = Math.floor((options.now ?? Date.now)() / 1000) + ttl;
    const token = await mintPlaybackToken(options.playbackSecret, id, expiresAt);
    return c.json({ playbackId: id, token, expiresAt: new Date(expiresAt * 1000).toISOString(), query: `${PLAYBACK_TOKEN_PARAM}=${token}` }, 201);
  });

  app.get('/metrics', async (c) => {
    options.registry.updateGauges();
    return c.body(await options.metrics.registry.metrics(), 200, { 'content-type': options.metrics.registry.contentType });
  });

  app.notFound((c) => c.json({ error: 'not found' }, 404));
  app.onError((error, c) => {
    if (error instanceof HTTPException) return c.json({ error: error.message }, error.status);
    return c.json({ error: 'internal error' }, 500);
  });
  return app;
}
