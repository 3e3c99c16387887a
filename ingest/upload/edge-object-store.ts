/**
 * ObjectStore over the edge's authenticated write API: the sidecar's local default. Requests go
 * over node:http(s) with kept-alive connections (keep-alive-client.ts), not fetch: uploads were a
 * third of a busy sidecar's CPU under undici.
 */
import { partAnnouncementHeaders, type PartAnnouncement } from '../../shared/low-latency.ts';
import type { ObjectMetadata, ObjectStore, PutOptions, StoredObject } from '../../shared/storage/object-store.ts';
import { StorageHttpError } from '../../shared/storage/storage-error.ts';
import { parseStreamObjectKey } from '../../shared/storage/layout.ts';
import { parseRecordingObjectKey } from '../../shared/recordings/recording-layout.ts';
import { streamWriteToken, WRITE_API_PREFIX, WRITE_TOKEN_TTL_SECONDS } from '../../shared/write-api.ts';
import { KeepAliveClient, type HttpResponse } from './keep-alive-client.ts';
import type { PartSink } from './part-sink.ts';

export interface EdgeObjectStoreOptions {
  /** The edge origin, e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  secret: string;
  timeoutMs: number;
  /** The clock tokens are minted by (epoch milliseconds); tests move it. */
  now?: () => number;
}

export class EdgeWriteError extends StorageHttpError {
  override name = 'EdgeWriteError';
}

// A part is due at the edge within its own duration or it is late anyway.
const PART_TIMEOUT_MS = 2_000;

// A stream's write token is replaced this long before it expires: a write retried for minutes,
// or an edge clock somewhat ahead of ours, still carries a token the edge takes.
const RENEW_BEFORE_EXPIRY_MS = 10 * 60_000;
const RENEW_AFTER_MS = WRITE_TOKEN_TTL_SECONDS * 1000 - RENEW_BEFORE_EXPIRY_MS;

export class EdgeObjectStore implements ObjectStore, PartSink {
  private readonly options: EdgeObjectStoreOptions;

  constructor(options: EdgeObjectStoreOptions) {
    this.options = options;
  }

  /** Per stream: its current write token (as an Authorization value) and when to mint the next. */
  private readonly tokens = new Map<string, { authorization: Promise<string>; renewAt: number }>();

  /** One agent of kept-alive connections to the edge, for every stream. */
  private readonly client = new KeepAliveClient();

  private url(key: string): URL {
    return new URL(WRITE_API_PREFIX + key, this.options.baseUrl);
  }

  /**
   * The credential for a key: its stream's write token (the secret itself never goes on the
   * wire), minted again before it expires (tokens live WRITE_TOKEN_TTL_SECONDS).
   */
  private authorization(key: string): Promise<string> {
    const playbackId = (parseStreamObjectKey(key) ?? parseRecordingObjectKey(key))?.playbackId;
    if (!playbackId) return Promise.reject(new EdgeWriteError(`not a stream object key: ${JSON.stringify(key)}`, 400));
    const now = this.options.now?.() ?? Date.now();
    const cached = this.tokens.get(playbackId);
    if (cached && now < cached.renewAt) return cached.authorization;
    // Tokens of streams that ended are due for renewal too: dropped here, so the map stays as small as the live streams.
    for (const [id, entry] of this.tokens) if (now >= entry.renewAt) this.tokens.delete(id);
    const authorization = streamWriteToken(this.options.secret, playbackId, now).then((value) => `Bearer ${value}`);
    this.tokens.set(playbackId, { authorization, renewAt: now + RENEW_AFTER_MS });
    return authorization;
  }

  put(key: string, body: Uint8Array | string, options: PutOptions): Promise<void> {
    return this.send(key, body, { 'content-type': options.contentType }, this.options.timeoutMs);
  }

  /** A segment as its parts: written to the socket one after the other, not joined. */
  putChunks(key: string, chunks: readonly Uint8Array[], options: PutOptions): Promise<void> {
    return this.send(key, chunks, { 'content-type': options.contentType }, this.options.timeoutMs);
  }

  /** A low-latency part: the edge keeps it in its live state (not storage) and lists it at once. */
  putPart(key: string, bytes: Uint8Array, contentType: string, announcement: PartAnnouncement): Promise<void> {
    return this.send(key, bytes, { 'content-type': contentType, ...partAnnouncementHeaders(announcement) }, Math.min(PART_TIMEOUT_MS, this.options.timeoutMs));
  }

  private async send(key: string, body: Uint8Array | string | readonly Uint8Array[], headers: Record<string, string>, timeoutMs: number): Promise<void> {
    const response = await this.request('PUT', key, timeoutMs, headers, body);
    if (!ok(response.status)) throw new EdgeWriteError(`PUT ${key}: ${response.status} ${errorText(response)}`, response.status);
  }

  async head(key: string): Promise<ObjectMetadata | null> {
    const response = await this.request('HEAD', key, this.options.timeoutMs);
    if (response.status === 404) return null;
    if (!ok(response.status)) throw new EdgeWriteError(`HEAD ${key}: ${response.status}`, response.status);
    return metadataOf(response);
  }

  async delete(key: string): Promise<void> {
    const response = await this.request('DELETE', key, this.options.timeoutMs);
    if (!ok(response.status) && response.status !== 404) {
      throw new EdgeWriteError(`DELETE ${key}: ${response.status} ${errorText(response)}`, response.status);
    }
  }

  /** The whole object: the sidecar reads back small documents only, so no ranges. */
  async get(key: string): Promise<StoredObject | null> {
    const response = await this.request('GET', key, this.options.timeoutMs);
    if (response.status === 404) return null;
    if (!ok(response.status)) throw new EdgeWriteError(`GET ${key}: ${response.status} ${errorText(response)}`, response.status);
    const bytes = response.body;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes);
        controller.close();
      },
    });
    return { body, ...metadataOf(response) };
  }

  /** Stops keeping connections to the edge open. */
  close(): void {
    this.client.close();
  }

  private async request(method: 'GET' | 'PUT' | 'HEAD' | 'DELETE', key: string, timeoutMs: number, headers: Record<string, string> = {}, body?: Uint8Array | string | readonly Uint8Array[]): Promise<HttpResponse> {
    return this.client.request({
      method,
      url: this.url(key),
      headers: { authorization: await this.authorization(key), ...headers },
      body,
      timeoutMs,
      // Bodies of answers are read for GET and, for its message, an error's first bytes.
      readBody: (status) => (method === 'GET' && ok(status)) || (method !== 'HEAD' && !ok(status) && status !== 404),
      maxBodyBytes: method === 'GET' ? undefined : ERROR_TEXT_BYTES,
    });
  }
}

const ERROR_TEXT_BYTES = 200;
const ok = (status: number) => status >= 200 && status < 300;
const errorText = (response: HttpResponse) => response.body.toString('utf8').slice(0, ERROR_TEXT_BYTES);

function metadataOf(response: HttpResponse): ObjectMetadata {
  return {
    size: Number(response.headers['content-length'] ?? 0),
    etag: (response.headers.etag ?? '').replaceAll('"', ''),
    contentType: response.headers['content-type'],
  };
}
