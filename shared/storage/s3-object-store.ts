/**
 * ObjectStore over the S3 API (Cloudflare R2, AWS S3, MinIO-style servers): plain fetch with
 * SigV4 signatures from aws4fetch, so the same code runs in Node, Workers and Deno.
 */
import { AwsClient } from 'aws4fetch';
import { keyAfterFolder, type ByteRange, type ObjectMetadata, type ObjectStore, type PutOptions, type StoredObject } from './object-store.ts';
import { StorageHttpError } from './storage-error.ts';

// SHA-256 of nothing: the payload hash of a request without a body.
const EMPTY_PAYLOAD_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export interface S3ObjectStoreOptions {
  /** e.g. https://ACCOUNT.r2.cloudflarestorage.com, https://s3.eu-west-1.amazonaws.com, http://127.0.0.1:9000 */
  endpoint: string;
  bucket: string;
  /** `auto` for R2. */
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Bucket in the path (default; R2 and most servers) or in the host name (AWS virtual-hosted style). */
  pathStyle?: boolean;
  timeoutMs?: number;
}

export class S3StoreError extends StorageHttpError {
  override name = 'S3StoreError';
}

export class S3ObjectStore implements ObjectStore {
  private readonly options: S3ObjectStoreOptions;
  private readonly client: AwsClient;

  constructor(options: S3ObjectStoreOptions) {
    this.options = options;
    this.client = new AwsClient({
      accessKeyId: options.accessKeyId,
      secretAccessKey: options.secretAccessKey,
      service: 's3',
      region: options.region,
    });
  }

  objectUrl(key: string): string {
    const endpoint = new URL(this.options.endpoint);
    const path = key.split('/').map(encodeURIComponent).join('/');
    if (this.options.pathStyle === false) {
      endpoint.hostname = `${this.options.bucket}.${endpoint.hostname}`;
      return new URL(`/${path}`, endpoint).href;
    }
    return new URL(`/${encodeURIComponent(this.options.bucket)}/${path}`, endpoint).href;
  }

  /**
   * The signed request for an object. The payload's SHA-256 is signed (S3 and R2 check it, so
   * a corrupted upload is refused), and so is every header sent. `datetime` (YYYYMMDDTHHMMSSZ)
   * is for checking against published examples.
   */
  async signedRequest(method: string, key: string, init: { headers?: Record<string, string>; body?: Uint8Array | string; datetime?: string } = {}): Promise<Request> {
    const payload = typeof init.body === 'string' ? new TextEncoder().encode(init.body) : (init.body ?? new Uint8Array(0));
    // WebCrypto wants ArrayBuffer-backed bytes; only a (never used) shared buffer is copied.
    const hashable = payload.buffer instanceof ArrayBuffer ? (payload as Uint8Array<ArrayBuffer>) : new Uint8Array(payload);
    const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', hashable));
    const payloadHash = Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('');
    return this.client.sign(this.objectUrl(key), {
      method,
      headers: { ...init.headers, 'x-amz-content-sha256': payloadHash },
      // The ArrayBuffer-backed copy: what every runtime's fetch takes as a body.
      body: typeof init.body === 'string' || init.body === undefined ? init.body : hashable,
      aws: { allHeaders: true, ...(init.datetime ? { datetime: init.datetime } : {}) },
    });
  }

  private async send(method: string, key: string, init: { headers?: Record<string, string>; body?: Uint8Array | string } = {}): Promise<Response> {
    const request = await this.signedRequest(method, key, init);
    return fetch(request, { signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000) });
  }

  private async failure(method: string, key: string, response: Response): Promise<S3StoreError> {
    const body = method === 'HEAD' ? '' : (await response.text()).slice(0, 300);
    return new S3StoreError(`${method} ${key}: ${response.status} ${body}`.trim(), response.status);
  }

  async put(key: string, body: Uint8Array | string, options: PutOptions): Promise<void> {
    const response = await this.send('PUT', key, { body, headers: { 'content-type': options.contentType } });
    if (!response.ok) throw await this.failure('PUT', key, response);
    await response.body?.cancel();
  }

  async get(key: string, range?: ByteRange): Promise<StoredObject | null> {
    const headers: Record<string, string> = range ? { range: `bytes=${range.offset}-${range.offset + range.length - 1}` } : {};
    const response = await this.send('GET', key, { headers });
    if (response.status === 404) {
      await response.body?.cancel();
      return null;
    }
    if (!response.ok || !response.body) throw await this.failure('GET', key, response);
    // A ranged answer states the whole size after the slash of Content-Range.
    const total = /\/(\d+)$/.exec(response.headers.get('content-range') ?? '')?.[1];
    return { body: response.body, ...metadataOf(response), ...(total ? { size: Number(total) } : {}) };
  }

  async head(key: string): Promise<ObjectMetadata | null> {
    const response = await this.send('HEAD', key);
    if (response.status === 404) return null;
    if (!response.ok) throw await this.failure('HEAD', key, response);
    return metadataOf(response);
  }

  /** ListObjectsV2 with a delimiter: the common prefixes right under `prefix`. */
  async listChildren(prefix: string, limit: number, after?: string): Promise<string[]> {
    const bucketUrl = new URL(this.objectUrl('x'));
    bucketUrl.pathname = bucketUrl.pathname.replace(/x$/, '');
    const query: Record<string, string> = { 'list-type': '2', prefix, delimiter: '/', 'max-keys': String(limit) };
    if (after !== undefined) query['start-after'] = keyAfterFolder(prefix, after);
    bucketUrl.search = new URLSearchParams(query).toString();
    const request = await this.client.sign(bucketUrl.href, {
      method: 'GET',
      headers: { 'x-amz-content-sha256': EMPTY_PAYLOAD_SHA256 },
      aws: { allHeaders: true },
    });
    const response = await fetch(request, { signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000) });
    const body = await response.text();
    if (!response.ok) throw new S3StoreError(`LIST ${prefix}: ${response.status} ${body.slice(0, 300)}`, response.status);
    // Keys of ours are plain letters, digits, "-", "_" and "/": nothing XML would escape.
    // S3 counts common prefixes within max-keys; some compatible servers (s3rver) do not: cut here too.
    return [...body.matchAll(/<CommonPrefixes>\s*<Prefix>([^<]*)<\/Prefix>/g)].map((match) => match[1]!.slice(prefix.length).replace(/\/$/, '')).slice(0, limit);
  }

  /** S3 answers 204 whether or not the object existed; some compatible servers answer 404. */
  async delete(key: string): Promise<void> {
    const response = await this.send('DELETE', key);
    if (!response.ok && response.status !== 404) throw await this.failure('DELETE', key, response);
    await response.body?.cancel();
  }
}

function metadataOf(response: Response): ObjectMetadata {
  return {
    size: Number(response.headers.get('content-length') ?? 0),
    etag: (response.headers.get('etag') ?? '').replaceAll('"', ''),
    contentType: response.headers.get('content-type') ?? undefined,
  };
}
