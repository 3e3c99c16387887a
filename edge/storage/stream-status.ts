/** A stream's status document as the edge reads it (to authorize viewers, to list live streams). */
import { streamObjectKey } from '../../shared/storage/layout.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import { parseStreamStatus, type StreamStatus } from '../../shared/stream-status.ts';

/** The status object is there but is not a status document: a fault at the origin, not a stream that has not started. */
export class UnreadableStreamStatus extends Error {}

/** The document, or undefined when there is none; throws UnreadableStreamStatus when it cannot be read as one. */
export async function readStreamStatus(store: ObjectStore, playbackId: string): Promise<StreamStatus | undefined> {
  const object = await store.get(streamObjectKey(playbackId, { kind: 'status' }));
  if (!object) return undefined;
  let json: unknown;
  try {
    json = await new Response(object.body).json();
  } catch {
    throw new UnreadableStreamStatus(`the status document of stream ${playbackId} is not JSON`);
  }
  const parsed = parseStreamStatus(json);
  if (!parsed.ok) throw new UnreadableStreamStatus(`the status document of stream ${playbackId} is not one: ${parsed.reason}`);
  return parsed.status;
}
