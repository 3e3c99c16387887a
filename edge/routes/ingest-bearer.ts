/**
 * The sidecar's requests to the edge (writes, the live channel, registry lookups) carry a bearer
 * credential made from the ingest secret: checked here in one way for all of them, the public
 * development secret (or anything made from it) taken only from this machine.
 */
import type { Context } from 'hono';
import { DEVELOPMENT_INGEST_SECRET } from '../../shared/write-api.ts';
import { developmentRequestRefusal } from '../development-secret.ts';
import { httpError } from '../errors.ts';

export interface IngestBearerCheck<R extends { ok: true }> {
  secret: string | undefined;
  peerAddress?: (c: Context) => string | undefined;
  /** Which API is off without a secret, for the 503 (`write API`, `ingest API`). */
  api: string;
  /** What the bearer should be, for the 401 (`INGEST_SECRET or stream write token`). */
  credential: string;
  verify(secret: string, bearer: string, now: number): Promise<R | { ok: false; reason: string }>;
}

/** The verified credential, or an HTTP error: 503 without a secret, 401 without a bearer, 403 refused. */
export async function checkIngestBearer<R extends { ok: true }>(c: Context, check: IngestBearerCheck<R>): Promise<R> {
  if (!check.secret) throw httpError(503, `${check.api} disabled: set the INGEST_SECRET secret on the edge`);
  const header = c.req.header('authorization');
  if (!header?.startsWith('Bearer ')) throw httpError(401, `missing "Authorization: Bearer <${check.credential}>"`);
  const result = await check.verify(check.secret, header.slice('Bearer '.length), Date.now());
  if (!result.ok) throw httpError(403, result.reason);
  if (check.secret === DEVELOPMENT_INGEST_SECRET) {
    const refusal = developmentRequestRefusal({ url: c.req.url, headers: c.req.raw.headers, peerAddress: check.peerAddress?.(c) });
    if (refusal) throw httpError(403, refusal);
  }
  return result;
}
