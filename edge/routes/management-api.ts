/**
 * The management API, `/api/v1/streams`: the platform's streams (create, list, get, update,
 * rotate key, disable/enable, delete, mint playback tokens, import a sidecar's streams.json).
 * Admin bearer token (ADMIN_TOKEN, compared in constant time); bodies JSON, limited in size and
 * validated field by field (platform/stream-input.ts); every refusal a JSON error with a reason,
 * and nothing changed. A stream key is returned once, at create and rotate: only its hash is kept.
 */
import { Hono, type Context } from 'hono';
import { mintPlaybackToken, PLAYBACK_TOKEN_PARAM } from '../../shared/playback-token.ts';
import { generatePlaybackId, generateStreamKey, streamKeySha256 } from '../../shared/stream-keys.ts';
import { httpError } from '../errors.ts';
import { BodyTooLarge, readBodyWithLimit } from '../http/limited-body.ts';
import { InputError, parseCreateBody, parseImportBody, parseListQuery, parseStreamName, parseTokenBody, parseUpdateBody } from '../platform/stream-input.ts';
import type { StreamRecord, StreamRegistry } from '../platform/stream-registry.ts';
import { adminAuth } from './admin-auth.ts';

export const MANAGEMENT_API_PREFIX = '/api/v1/streams';

/** Far beyond any settings object; an import of many streams gets more. */
const BODY_LIMIT_BYTES = 16 * 1024;
const IMPORT_BODY_LIMIT_BYTES = 1024 * 1024;

export interface ManagementApiOptions {
  /** Unset: every request answers 503 (this edge has no registry). */
  registry: StreamRegistry | undefined;
  /** Unset: every request answers 503 (no admin token configured). */
  adminToken: string | undefined;
  /** Mints playback tokens for signed streams; unset: token requests answer 503. */
  playbackSecret: string | undefined;
  now?: () => Date;
}

/** What the API shows of a stream: never its key hash. */
export function streamView(stream: StreamRecord) {
  return {
    name: stream.name,
    playbackId: stream.playbackId,
    playback: stream.playback,
    reconnectWindowSeconds: stream.reconnectWindowSeconds,
    retention: stream.retention,
    enabled: stream.enabled,
    createdAt: stream.createdAt,
    keyRotatedAt: stream.keyRotatedAt,
    updatedAt: stream.updatedAt,
    webhookUrls: stream.webhookUrls ?? null,
    recording: stream.recording ?? null,
    recordingDays: stream.recordingDays ?? null,
  };
}

function checked<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof InputError) throw httpError(400, error.message);
    throw error;
  }
}

async function jsonBody(c: Context, limit: number, optional = false): Promise<unknown> {
  const contentType = c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase();
  if (contentType !== 'application/json') {
    if (optional && (c.req.header('content-length') ?? '0') === '0') return undefined;
    throw httpError(415, 'send the body as application/json');
  }
  if (Number(c.req.header('content-length') ?? 0) > limit) throw httpError(413, `bodies are limited to ${limit} bytes`);
  let bytes: Uint8Array;
  try {
    bytes = await readBodyWithLimit(c.req.raw.body, limit);
  } catch (error) {
    if (error instanceof BodyTooLarge) throw httpError(413, `bodies are limited to ${limit} bytes`);
    throw error;
  }
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes));
  } catch {
    throw httpError(400, 'the body is not valid JSON');
  }
}

export function managementApiRoutes(options: ManagementApiOptions): Hono {
  const routes = new Hono();
  const now = () => (options.now?.() ?? new Date()).toISOString();

  routes.use('*', adminAuth(options.adminToken));
  routes.use('*', async (_c, next) => {
    if (!options.registry) throw httpError(503, 'this edge has no stream registry');
    await next();
  });

  const registry = () => options.registry!;
  const existing = async (c: Context): Promise<StreamRecord> => {
    const name = checked(() => parseStreamName(c.req.param('name')));
    const stream = await registry().get(name);
    if (!stream) throw httpError(404, `no stream named "${name}"`);
    return stream;
  };

  /** A new key and its hash: the key goes to the caller once, the hash to the registry. */
  const newKey = async () => {
    const key = generateStreamKey();
    return { key, keySha256: await streamKeySha256(key) };
  };

  routes.post('/', async (c) => {
    const body = await jsonBody(c, BODY_LIMIT_BYTES);
    const { name, settings } = checked(() => parseCreateBody(body));
    const { key, keySha256 } = await newKey();
    const at = now();
    const stream: StreamRecord = {
      name,
      playbackId: generatePlaybackId(),
      keySha256,
      playback: settings.playback ?? 'public',
      reconnectWindowSeconds: settings.reconnectWindowSeconds ?? null,
      retention: settings.retention ?? null,
      enabled: settings.enabled ?? true,
      webhookUrls: settings.webhookUrls ?? null,
      recording: settings.recording ?? null,
      recordingDays: settings.recordingDays ?? null,
      createdAt: at,
      keyRotatedAt: at,
      updatedAt: at,
    };
    if (!(await registry().create(stream))) throw httpError(409, `a stream named "${name}" already exists`);
    return c.json({ stream: streamView(stream), streamKey: key }, 201);
  });

  routes.get('/', async (c) => {
    const { limit, after } = checked(() => parseListQuery(c.req.query('limit'), c.req.query('cursor')));
    // One more than asked: whether a next page exists, without a count.
    const page = await registry().list({ limit: limit + 1, after });
    const streams = page.slice(0, limit);
    const nextCursor = page.length > limit ? streams.at(-1)!.name : null;
    return c.json({ streams: streams.map(streamView), nextCursor });
  });

  // Streams imported from a sidecar's streams.json (npm start does it, or `npm run streams -- import`):
  // their key hashes and playback ids are kept, so keys and viewers' URLs go on working. A name
  // already in the registry is skipped, never overwritten: importing twice changes nothing.
  routes.post('/import', async (c) => {
    const body = await jsonBody(c, IMPORT_BODY_LIMIT_BYTES);
    const streams = checked(() => parseImportBody(body));
    const imported: string[] = [];
    const skipped: string[] = [];
    for (const stream of streams) {
      const created = await registry().create({ ...stream, reconnectWindowSeconds: null, retention: null, enabled: true, updatedAt: now() });
      (created ? imported : skipped).push(stream.name);
    }
    return c.json({ imported, skipped });
  });

  routes.get('/:name', async (c) => c.json({ stream: streamView(await existing(c)) }));

  routes.patch('/:name', async (c) => {
    const { name } = await existing(c);
    const body = await jsonBody(c, BODY_LIMIT_BYTES);
    const changes = checked(() => parseUpdateBody(body));
    const updated = await registry().update(name, changes, now());
    if (!updated) throw httpError(404, `no stream named "${name}"`);
    return c.json({ stream: streamView(updated) });
  });

  for (const [action, enabled] of [['enable', true], ['disable', false]] as const) {
    routes.post(`/:name/${action}`, async (c) => {
      const { name } = await existing(c);
      const updated = await registry().update(name, { enabled }, now());
      if (!updated) throw httpError(404, `no stream named "${name}"`);
      return c.json({ stream: streamView(updated) });
    });
  }

  routes.post('/:name/rotate-key', async (c) => {
    const { name } = await existing(c);
    const { key, keySha256 } = await newKey();
    const updated = await registry().rotateKey(name, keySha256, now());
    if (!updated) throw httpError(404, `no stream named "${name}"`);
    return c.json({ stream: streamView(updated), streamKey: key });
  });

  routes.post('/:name/playback-tokens', async (c) => {
    const stream = await existing(c);
    const body = await jsonBody(c, BODY_LIMIT_BYTES, true);
    const { ttlSeconds } = checked(() => parseTokenBody(body));
    if (!options.playbackSecret) throw httpError(503, 'this edge has no PLAYBACK_SECRET: it cannot mint (or verify) playback tokens');
    const expiresAt = Math.floor((options.now?.() ?? new Date()).getTime() / 1000) + ttlSeconds;
    const token = await mintPlaybackToken(options.playbackSecret, stream.playbackId, expiresAt);
    return c.json({ playbackId: stream.playbackId, playback: stream.playback, token, param: PLAYBACK_TOKEN_PARAM, expiresAt: new Date(expiresAt * 1000).toISOString() }, 201);
  });

  routes.delete('/:name', async (c) => {
    const stream = await existing(c);
    if (!(await registry().delete(stream.name))) throw httpError(404, `no stream named "${stream.name}"`);
    return c.json({ deleted: streamView(stream) });
  });

  return routes;
}
