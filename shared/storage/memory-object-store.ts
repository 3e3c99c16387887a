/** An in-memory ObjectStore: for unit tests of code that only needs the interface. */
import { byFolderKey, type ByteRange, type ObjectMetadata, type ObjectStore, type PutOptions, type StoredObject } from './object-store.ts';

interface MemoryObject {
  bytes: Uint8Array;
  contentType: string;
  etag: string;
}

export class MemoryObjectStore implements ObjectStore {
  readonly objects = new Map<string, MemoryObject>();
  private version = 0;

  async put(key: string, body: Uint8Array | string, options: PutOptions): Promise<void> {
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : body.slice();
    this.version += 1;
    this.objects.set(key, { bytes, contentType: options.contentType, etag: `m${this.version}` });
  }

  async get(key: string, range?: ByteRange): Promise<StoredObject | null> {
    const object = this.objects.get(key);
    if (!object) return null;
    const bytes = range ? object.bytes.subarray(range.offset, range.offset + range.length) : object.bytes;
    return { body: new Response(bytes).body!, size: object.bytes.byteLength, etag: object.etag, contentType: object.contentType };
  }

  async head(key: string): Promise<ObjectMetadata | null> {
    const object = this.objects.get(key);
    return object ? { size: object.bytes.byteLength, etag: object.etag, contentType: object.contentType } : null;
  }

  async listChildren(prefix: string, limit: number, after?: string): Promise<string[]> {
    const names = new Set<string>();
    for (const key of this.objects.keys()) {
      if (!key.startsWith(prefix)) continue;
      const slash = key.indexOf('/', prefix.length);
      if (slash > prefix.length) names.add(key.slice(prefix.length, slash));
    }
    return [...names].filter((name) => after === undefined || byFolderKey(name, after) > 0).sort(byFolderKey).slice(0, limit);
  }

  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }

  text(key: string): string | undefined {
    const object = this.objects.get(key);
    return object && new TextDecoder().decode(object.bytes);
  }
}
