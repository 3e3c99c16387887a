/**
 * `POST /_ingest/registry/lookup`: a sidecar asks which streams these key hashes belong to
 * (shared/registry-lookup.ts). Authorized by a registry token from the ingest secret; the
 * development secret only from this machine, as for writes (development-secret.ts).
 */
import { Hono, type Context } from 'hono';
import { checkRegistryLookupToken, MAX_LOOKUP_KEYS, type LookupResponse } from '../../shared/registry-lookup.ts';
import { KEY_SHA256_PATTERN } from '../../shared/stream-keys.ts';
import { DEVELOPMENT_INGEST_SECRET } from '../../shared/write-api.ts';
import { NO_STORE } from '../cache/cache-control.ts';
import { developmentRequestRefusal } from '../development-secret.ts';
import { httpError } from '../errors.ts';
import { BodyTooLarge, readBodyWithLimit } from '../http/limited-body.ts';
import type { StreamRegistry } from '../platform/stream-registry.ts';

// MAX_LOOKUP_KEYS hashes of 64 characters, quoted, with commas: well under this.
const BODY_LIMIT_BYTES = 64 * 1024;

export interface RegistryLookupOptions {
  registry: StreamRegistry | undefined;
  secret: string | undefined;
  peerAddress?: (c: Context) => string | undefined;
}

export function registryLookupRoutes(options: RegistryLookupOptions): Hono {
  const routes = new Hono();
  routes.post('/lookup', async (c) => {
    c.header('cache-control', NO_STORE);
    if (!options.secret) throw httpError(503, 'ingest API disabled: set the INGEST_SECRET secret on the edge');
    const header = c.req.header('authorization');
    if (!header?.startsWith('Bearer ')) throw httpError(401, 'missing "Authorization: Bearer <registry lookup token>"');
    const check = await checkRegistryLookupToken(options.secret, header.slice('Bearer '.length), Date.now());
    if (!check.ok) throw httpError(403, check.reason);
    if (options.secret === DEVELOPMENT_INGEST_SECRET) {
      const refusal = developmentRequestRefusal({ url: c.req.url, headers: c.req.raw.headers, peerAddress: options.peerAddress?.(c) });
      if (refusal) throw httpError(403, refusal);
    }
    if (!options.registry) throw httpError(501, 'this edge has no stream registry: run the sidecar with --stream-registry file');
    let keys: unknown;
    try {
      keys = (JSON.parse(new TextDecoder().decode(await readBodyWithLimit(c.req.raw.body, BODY_LIMIT_BYTES))) as { keys?: unknown }).keys;
    } catch (error) {
      if (error instanceof BodyTooLarge) throw httpError(413, `bodies are limited to ${BODY_LIMIT_BYTES} bytes`);
      throw httpError(400, 'expected a JSON body {"keys": [...]}');
    }
    if (!Array.isArray(keys) || keys.length > MAX_LOOKUP_KEYS || !keys.every((key) => typeof key === 'string' && KEY_SHA256_PATTERN.test(key))) {
      throw httpError(400, `keys must be an array of at most ${MAX_LOOKUP_KEYS} SHA-256 hashes (64 lower-case hex digits)`);
    }
    const registry = options.registry;
    const streams = await Promise.all(
      (keys as string[]).map(async (key) => {
        const stream = await registry.findByKeySha256(key);
        return stream ? { name: stream.name, playbackId: stream.playbackId, playback: stream.playback, enabled: stream.enabled, reconnectWindowSeconds: stream.reconnectWindowSeconds, retention: stream.retention } : null;
      }),
    );
    const answer: LookupResponse = { configured: await registry.count(), streams };
    return c.json(answer);
  });
  return routes;
}
