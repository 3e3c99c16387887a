/**
 * A stream's restream outputs in the management API: `GET|POST /api/v1/streams/NAME/outputs`,
 * `DELETE /api/v1/streams/NAME/outputs/ID` (admin token, as the rest of the API). The target's
 * key is taken at creation and never returned: every answer shows the URL with the key redacted.
 * Outputs count from the stream's next publish (the sidecar gets them with its registry lookup).
 * Each shows its state as the sidecar carrying the stream reported it (`idle` when none runs it):
 * `connecting`, `live`, `retrying`, `failed`, with `status` the same in one line (`failed: REASON`).
 */
import { Hono, type Context } from 'hono';
import { outputStatusLine } from '../../shared/output-states.ts';
import { outputKeyProblem, outputUrlProblem, redactedUrl } from '../../shared/restream-target.ts';
import { httpError } from '../errors.ts';
import { BodyTooLarge, readBodyWithLimit } from '../http/limited-body.ts';
import { currentOutputState, type StoredStreamOutput, type StreamOutputStore } from '../platform/stream-outputs.ts';
import type { StreamRecord, StreamRegistry } from '../platform/stream-registry.ts';
import { MAX_OUTPUTS_PER_STREAM } from '../../shared/restream-target.ts';
import { adminAuth } from './admin-auth.ts';
import { streamByName } from './stream-by-name.ts';

const BODY_LIMIT_BYTES = 4 * 1024;
const OUTPUT_ID_PATTERN = /^out_[0-9a-f]{8}$/;

export interface StreamOutputRoutesOptions {
  registry: StreamRegistry | undefined;
  outputs: StreamOutputStore | undefined;
  adminToken: string | undefined;
  now?: () => Date;
}

/** What the API shows of an output: never its key. */
export function outputView(output: StoredStreamOutput, now: Date) {
  const { state, reason, at } = currentOutputState(output, now);
  return {
    id: output.id,
    url: redactedUrl(output),
    createdAt: output.createdAt,
    state,
    status: outputStatusLine(state, reason),
    ...(reason !== undefined ? { reason } : {}),
    ...(at !== undefined ? { stateReportedAt: at } : {}),
  };
}

function newOutputId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return `out_${[...bytes].map((byte) => byte.toString(16).padStart(2, '0')).join('')}`;
}

async function outputBody(c: Context): Promise<{ url: string; key: string }> {
  if (c.req.header('content-type')?.split(';')[0]?.trim().toLowerCase() !== 'application/json') throw httpError(415, 'send the body as application/json');
  let body: unknown;
  try {
    body = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(await readBodyWithLimit(c.req.raw.body, BODY_LIMIT_BYTES)));
  } catch (error) {
    if (error instanceof BodyTooLarge) throw httpError(413, `bodies are limited to ${BODY_LIMIT_BYTES} bytes`);
    throw httpError(400, 'the body is not valid JSON');
  }
  const { url, key, ...rest } = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw httpError(400, `unexpected field "${Object.keys(rest)[0]}" (expected url and key)`);
  if (typeof url !== 'string' || typeof key !== 'string') throw httpError(400, 'expected {"url": "rtmp://HOST/APP", "key": "the target\'s stream key"}');
  const problem = outputUrlProblem(url) ?? outputKeyProblem(key);
  if (problem) throw httpError(400, problem);
  return { url, key };
}

export function streamOutputRoutes(options: StreamOutputRoutesOptions): Hono {
  const routes = new Hono();
  routes.use('/:name/outputs', adminAuth(options.adminToken));
  routes.use('/:name/outputs/*', adminAuth(options.adminToken));
  const stream = (c: Context): Promise<StreamRecord> => streamByName(options.outputs && options.registry, c);

  routes.get('/:name/outputs', async (c) => {
    const { playbackId } = await stream(c);
    const now = options.now?.() ?? new Date();
    return c.json({ outputs: (await options.outputs!.list(playbackId)).map((output) => outputView(output, now)) });
  });

  routes.post('/:name/outputs', async (c) => {
    const { playbackId, name } = await stream(c);
    const { url, key } = await outputBody(c);
    const created = await options.outputs!.create(playbackId, { id: newOutputId(), url, key, createdAt: (options.now?.() ?? new Date()).toISOString() });
    if (!created) throw httpError(409, `stream "${name}" already has ${MAX_OUTPUTS_PER_STREAM} outputs (the most it may have)`);
    return c.json({ output: outputView(created, options.now?.() ?? new Date()) }, 201);
  });

  routes.delete('/:name/outputs/:id', async (c) => {
    const { playbackId, name } = await stream(c);
    const id = c.req.param('id');
    if (!OUTPUT_ID_PATTERN.test(id) || !(await options.outputs!.delete(playbackId, id))) throw httpError(404, `stream "${name}" has no output "${id}"`);
    return c.json({ deleted: id });
  });
  return routes;
}
