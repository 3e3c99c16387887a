/** The one storage interface: the sidecar writes through it, the edge reads through it. */

export interface PutOptions {
  contentType: string;
}

export interface ObjectMetadata {
  /** Bytes of the whole object. */
  size: number;
  /** Strong validator for the stored bytes, without quotes. */
  etag: string;
  contentType: string | undefined;
}

export interface StoredObject extends ObjectMetadata {
  /** The whole object, or the requested byte range of it. */
  body: ReadableStream<Uint8Array>;
}

export interface ByteRange {
  offset: number;
  length: number;
}

export interface ObjectStore {
  /** Stores the bytes durably: once the promise resolves, a `get` of the key returns them. */
  put(key: string, body: Uint8Array | string, options: PutOptions): Promise<void>;
  /**
   * Stores `chunks` end to end as one object, as `put` does, without joining them first where
   * the store's API allows (a segment is the list of its parts: joining was a segment-sized
   * copy per segment). Optional: callers use putChunks() below, which joins for a store without it.
   */
  putChunks?(key: string, chunks: readonly Uint8Array[], options: PutOptions): Promise<void>;
  /** The object (or one byte range of it, which must lie inside it), or null when it does not exist. */
  get(key: string, range?: ByteRange): Promise<StoredObject | null>;
  /** The object's metadata without its bytes, or null when it does not exist. */
  head(key: string): Promise<ObjectMetadata | null>;
  /** Removes the object; removing one that does not exist is not an error. */
  delete(key: string): Promise<void>;
  /**
   * Removes many objects in few requests (a recording's thousands of segments). Optional: without
   * it, callers delete one key at a time.
   */
  deleteMany?(keys: readonly string[]): Promise<void>;
  /**
   * The names of the "folders" right under `prefix` (which ends in `/`), at most `limit` of them,
   * in key order (the order of `name/`), after the folder `after` when given (a page's cursor).
   * Optional: a store that cannot list (the sidecar's edge client) leaves it out.
   */
  listChildren?(prefix: string, limit: number, after?: string): Promise<string[]>;
}

/** Stores `chunks` end to end under `key`: with the store's own putChunks, else joined into one put. */
export function putChunks(store: ObjectStore, key: string, chunks: readonly Uint8Array[], options: PutOptions): Promise<void> {
  if (store.putChunks) return store.putChunks(key, chunks, options);
  return store.put(key, chunks.length === 1 ? chunks[0]! : joinChunks(chunks), options);
}

/** The chunks' bytes in one buffer (a store that takes one body). */
export function joinChunks(chunks: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const joined = new Uint8Array(chunksByteLength(chunks));
  let offset = 0;
  for (const chunk of chunks) {
    joined.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return joined;
}

/** Bytes of all `chunks` together. */
export function chunksByteLength(chunks: readonly Uint8Array[]): number {
  let size = 0;
  for (const chunk of chunks) size += chunk.byteLength;
  return size;
}

/** Folder names in the order storage lists them: by their keys, `name/` (so `a-b` comes before `a`). */
export function byFolderKey(a: string, b: string): number {
  const left = `${a}/`;
  const right = `${b}/`;
  return left < right ? -1 : left > right ? 1 : 0;
}

/**
 * The key to list from (S3 `start-after`, R2 `startAfter`) so that the folder `after` and
 * everything in it are skipped: every key in it starts `after/`, and "/" sorts right before "0",
 * while any later folder's keys sort after `after0`.
 */
export function keyAfterFolder(prefix: string, after: string): string {
  return `${prefix}${after}0`;
}
