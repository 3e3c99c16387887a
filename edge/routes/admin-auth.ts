/** The management API's bearer check (ADMIN_TOKEN, compared in constant time), shared by its routes. */
import type { MiddlewareHandler } from 'hono';
import { constantTimeEqual } from '../../shared/constant-time.ts';
import { NO_STORE } from '../cache/cache-control.ts';
import { httpError } from '../errors.ts';

export function adminAuth(adminToken: string | undefined): MiddlewareHandler {
  return async (c, next) => {
    c.header('cache-control', NO_STORE);
    if (!adminToken) throw httpError(503, 'management API disabled: set the ADMIN_TOKEN secret on the edge');
    const header = c.req.header('authorization');
    if (!header?.startsWith('Bearer ')) {
      c.header('www-authenticate', 'Bearer');
      throw httpError(401, 'missing "Authorization: Bearer <ADMIN_TOKEN>"');
    }
    if (!constantTimeEqual(header.slice('Bearer '.length), adminToken)) throw httpError(403, 'wrong admin token');
    await next();
  };
}
