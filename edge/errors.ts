/** Error responses: a small JSON body with the reason, never a stack, never cached. */
import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { NO_STORE } from './cache/cache-control.ts';

export function httpError(status: ContentfulStatusCode, message: string): HTTPException {
  return new HTTPException(status, { message });
}

/** A 503 that passes by itself (storage down for a moment): the client is told when to ask again. */
export class TemporarilyUnavailable extends HTTPException {
  readonly retryAfterSeconds: number;

  constructor(message: string, retryAfterSeconds: number) {
    super(503, { message });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export function errorResponse(error: Error, c: Context): Response {
  const status = error instanceof HTTPException ? error.status : 500;
  const message = error instanceof HTTPException ? error.message : 'internal error';
  if (!(error instanceof HTTPException)) console.error('edge: unhandled error', error);
  const headers: Record<string, string> = { 'cache-control': NO_STORE };
  if (error instanceof TemporarilyUnavailable) headers['retry-after'] = String(error.retryAfterSeconds);
  return c.json({ error: message }, status as ContentfulStatusCode, headers);
}
