/** The one storage interface: the sidecar writes through it, the edge reads through it. */

export interface PutOptions {
  contentType: string;
}

export interface StoredObject {
  body: ReadableStream<Uint8Array>;
  size: number;
  /** Strong validator for the stored bytes, without quotes. */
  etag: string;
  contentType: string | undefined;
}

export interface ObjectStore {
  /** Stores the bytes durably: once the promise resolves, a `get` of the key returns them. */
  put(key: string, body: Uint8Array | string, options: PutOptions): Promise<void>;
  /** The object, or null when it does not exist. */
  get(key: string): Promise<StoredObject | null>;
}
