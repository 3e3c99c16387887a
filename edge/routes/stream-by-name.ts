/** The management API's `/:name` parameter as a registered stream: 503 without a registry, 400 for a bad name, 404 for none. */
import type { Context } from 'hono';
import { httpError } from '../errors.ts';
import { InputError, parseStreamName } from '../platform/stream-input.ts';
import type { StreamRecord, StreamRegistry } from '../platform/stream-registry.ts';

export async function streamByName(registry: StreamRegistry | undefined, c: Context): Promise<StreamRecord> {
  if (!registry) throw httpError(503, 'this edge has no stream registry');
  let name: string;
  try {
    name = parseStreamName(c.req.param('name'));
  } catch (error) {
    if (error instanceof InputError) throw httpError(400, error.message);
    throw error;
  }
  const found = await registry.get(name);
  if (!found) throw httpError(404, `no stream named "${name}"`);
  return found;
}
