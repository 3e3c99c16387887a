/** The edge's management API (/api/v1/streams) as `npm run streams` and `npm start` call it. */
import { StreamStoreError, type ConfiguredStream } from './stream-store.ts';

/** A stream as the API shows it (edge/routes/management-api.ts streamView). */
export interface PlatformStream {
  name: string;
  playbackId: string;
  playback: 'public' | 'signed';
  reconnectWindowSeconds: number | null;
  retention: 'window' | 'all' | null;
  enabled: boolean;
  createdAt: string;
  keyRotatedAt: string;
  updatedAt: string;
}

export interface PlatformClientOptions {
  edgeUrl: string;
  adminToken: string;
  timeoutMs?: number;
}

const API_PATH = '/api/v1/streams';

export class PlatformClient {
  private readonly options: PlatformClientOptions;

  constructor(options: PlatformClientOptions) {
    this.options = options;
  }

  get edgeUrl(): string {
    return this.options.edgeUrl;
  }

  /** One call of the management API under /api/v1/streams (`path` after it); a refusal throws its reason. */
  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const url = new URL(API_PATH + path, this.options.edgeUrl);
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers: { authorization: `Bearer ${this.options.adminToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (error) {
      throw new StreamStoreError(`cannot reach the edge's management API at ${url.origin} (${(error as Error).message}): is the platform running (npm start)?`);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new StreamStoreError(`${method} ${url.pathname}: ${response.status}, not JSON: is ${url.origin} our edge?`);
    }
    if (!response.ok) {
      const reason = (parsed as { error?: unknown }).error;
      throw new StreamStoreError(typeof reason === 'string' ? reason : `${method} ${url.pathname}: ${response.status}`);
    }
    return parsed as T;
  }

  create(name: string, settings: { playback?: 'public' | 'signed' } = {}): Promise<{ stream: PlatformStream; streamKey: string }> {
    return this.call('POST', '', { name, ...settings });
  }

  async get(name: string): Promise<PlatformStream> {
    return (await this.call<{ stream: PlatformStream }>('GET', `/${encodeURIComponent(name)}`)).stream;
  }

  /** Every stream, page after page. */
  async list(): Promise<PlatformStream[]> {
    const streams: PlatformStream[] = [];
    let cursor: string | null = null;
    do {
      const page: { streams: PlatformStream[]; nextCursor: string | null } = await this.call('GET', `?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      streams.push(...page.streams);
      cursor = page.nextCursor;
    } while (cursor);
    return streams;
  }

  async update(name: string, changes: Partial<Pick<PlatformStream, 'playback' | 'reconnectWindowSeconds' | 'retention' | 'enabled'>>): Promise<PlatformStream> {
    return (await this.call<{ stream: PlatformStream }>('PATCH', `/${encodeURIComponent(name)}`, changes)).stream;
  }

  rotateKey(name: string): Promise<{ stream: PlatformStream; streamKey: string }> {
    return this.call('POST', `/${encodeURIComponent(name)}/rotate-key`);
  }

  async remove(name: string): Promise<PlatformStream> {
    return (await this.call<{ deleted: PlatformStream }>('DELETE', `/${encodeURIComponent(name)}`)).deleted;
  }

  mintToken(name: string, ttlSeconds: number): Promise<{ playbackId: string; playback: string; token: string; expiresAt: string }> {
    return this.call('POST', `/${encodeURIComponent(name)}/playback-tokens`, { ttlSeconds });
  }

  /** Imports a streams.json's streams (their key hashes and playback ids); names already there are skipped. */
  importStreams(streams: readonly ConfiguredStream[]): Promise<{ imported: string[]; skipped: string[] }> {
    return this.call('POST', '/import', {
      streams: streams.map((stream) => ({ name: stream.name, playbackId: stream.playbackId, keySha256: stream.keySha256, playback: stream.playback ?? 'public', createdAt: stream.createdAt, keyRotatedAt: stream.keyRotatedAt })),
    });
  }
}
