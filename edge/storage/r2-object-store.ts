/** ObjectStore over a Cloudflare R2 bucket binding. */
import { keyAfterFolder, type ByteRange, type ObjectMetadata, type ObjectStore, type PutOptions, type StoredObject } from '../../shared/storage/object-store.ts';

const R2_DELETE_BATCH = 1000;

export class R2ObjectStore implements ObjectStore {
  private readonly bucket: R2Bucket;

  constructor(bucket: R2Bucket) {
    this.bucket = bucket;
  }

  async put(key: string, body: Uint8Array | string, options: PutOptions): Promise<void> {
    await this.bucket.put(key, body, { httpMetadata: { contentType: options.contentType } });
  }

  /** A segment as its parts (the live state assembles it): one Blob of them, R2 takes it as a body of known length. */
  async putChunks(key: string, chunks: readonly Uint8Array[], options: PutOptions): Promise<void> {
    await this.bucket.put(key, new Blob(chunks as Uint8Array<ArrayBuffer>[]), { httpMetadata: { contentType: options.contentType } });
  }

  async get(key: string, range?: ByteRange): Promise<StoredObject | null> {
    const object = await this.bucket.get(key, range ? { range } : undefined);
    if (!object) return null;
    return { body: object.body, size: object.size, etag: object.etag, contentType: object.httpMetadata?.contentType };
  }

  async head(key: string): Promise<ObjectMetadata | null> {
    const object = await this.bucket.head(key);
    return object && { size: object.size, etag: object.etag, contentType: object.httpMetadata?.contentType };
  }

  async listChildren(prefix: string, limit: number, after?: string): Promise<string[]> {
    const listing = await this.bucket.list({ prefix, delimiter: '/', limit, ...(after !== undefined ? { startAfter: keyAfterFolder(prefix, after) } : {}) });
    return listing.delimitedPrefixes.map((child) => child.slice(prefix.length, -1));
  }

  async delete(key: string): Promise<void> {
    await this.bucket.delete(key);
  }

  /** R2 deletes up to 1000 keys in one call: a recording of hours is a few calls, not thousands. */
  async deleteMany(keys: readonly string[]): Promise<void> {
    for (let start = 0; start < keys.length; start += R2_DELETE_BATCH) await this.bucket.delete(keys.slice(start, start + R2_DELETE_BATCH));
  }
}
