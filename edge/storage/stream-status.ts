/** A stream's status document as the edge reads it (to authorize viewers, to list live streams). */
import { streamObjectKey } from '../../shared/storage/layout.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import type { StreamStatus } from '../../shared/stream-status.ts';

/** The document, or undefined when there is none or it cannot be read as JSON. */
export async function readStreamStatus(store: ObjectStore, streamId: string): Promise<StreamStatus | undefined> {
  const object = await store.get(streamObjectKey(streamId, { kind: 'status' }));
  if (!object) return undefined;
  try {
    return (await new Response(object.body).json()) as StreamStatus;
  } catch {
    return undefined;
  }
}
