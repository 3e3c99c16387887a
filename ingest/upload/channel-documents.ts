/**
 * A stream's documents (playlists, MPD, status) go to the edge on the stream's live channel when
 * it is open (the edge writes them to storage and answers), and over the store's own path (the
 * write API's PUT) when it is not or the edge did not write one. Everything else passes through.
 */
import { DOCUMENT_TYPES } from '../../shared/live-channel-protocol.ts';
import { parseStreamObjectKey, streamRelativePath } from '../../shared/storage/layout.ts';
import type { ObjectStore, PutOptions } from '../../shared/storage/object-store.ts';
import type { AssemblyOutcome } from './upload-queue.ts';

export interface DocumentChannel {
  /** Settles with the edge's answer, or not written with why (never rejects). */
  writeDocument(playbackId: string, path: string, contentType: string, text: string): Promise<AssemblyOutcome>;
}

export function channelDocumentStore(store: ObjectStore, channel: DocumentChannel): ObjectStore {
  return {
    put: async (key: string, body: Uint8Array | string, options: PutOptions) => {
      const parsed = parseStreamObjectKey(key);
      if (typeof body === 'string' && parsed && DOCUMENT_TYPES[parsed.ref.kind] === options.contentType) {
        const outcome = await channel.writeDocument(parsed.playbackId, streamRelativePath(parsed.ref), options.contentType, body);
        if (outcome.stored) return;
      }
      return store.put(key, body, options);
    },
    get: (key, range) => store.get(key, range),
    head: (key) => store.head(key),
    delete: (key) => store.delete(key),
    ...(store.putChunks ? { putChunks: store.putChunks.bind(store) } : {}),
    ...(store.deleteMany ? { deleteMany: store.deleteMany.bind(store) } : {}),
    ...(store.listChildren ? { listChildren: store.listChildren.bind(store) } : {}),
  };
}
