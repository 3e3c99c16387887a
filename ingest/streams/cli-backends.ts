/**
 * Where `npm run streams` keeps streams: the platform's registry through the edge's management
 * API (while a platform runs, or given --edge-url), or a local streams.json (given --file, or
 * with no platform running: `npm start` imports it into the registry, once).
 */
import { MAX_TOKEN_TTL_SECONDS, mintPlaybackToken } from '../../shared/playback-token.ts';
import { PlatformClient, type PlatformStream } from './platform-client.ts';
import { StreamStore, StreamStoreError, type ConfiguredStream, type StreamPlayback } from './stream-store.ts';

/** What the CLI shows of a stream (never its key or key hash). */
export interface StreamView {
  name: string;
  playbackId: string;
  playback: StreamPlayback;
  createdAt: string;
  keyRotatedAt: string;
  enabled?: boolean;
  reconnectWindowSeconds?: number | null;
  retention?: 'window' | 'all' | null;
}

export interface MintedToken {
  stream: StreamView;
  token: string;
  expiresAt: string;
}

export interface StreamsBackend {
  /** Said once where the streams are, for a person (not in --json output). */
  readonly where: string;
  add(name: string, playback: StreamPlayback): Promise<{ stream: StreamView; key: string }>;
  setPlayback(name: string, playback: StreamPlayback): Promise<StreamView>;
  token(nameOrPlaybackId: string, ttlSeconds: number): Promise<MintedToken>;
  list(): Promise<StreamView[]>;
  rotateKey(name: string): Promise<{ stream: StreamView; key: string }>;
  remove(name: string): Promise<StreamView>;
  setEnabled(name: string, enabled: boolean): Promise<StreamView>;
}

function fileView(stream: ConfiguredStream): StreamView {
  return { name: stream.name, playbackId: stream.playbackId, playback: stream.playback ?? 'public', createdAt: stream.createdAt, keyRotatedAt: stream.keyRotatedAt };
}

function platformView(stream: PlatformStream): StreamView {
  return { ...stream };
}

export class FileBackend implements StreamsBackend {
  readonly where: string;
  private readonly store: StreamStore;

  constructor(store: StreamStore, note = '') {
    this.store = store;
    this.where = `streams file ${store.path}${note}`;
  }

  async add(name: string, playback: StreamPlayback) {
    const { stream, key } = this.store.add(name, new Date(), playback);
    return { stream: fileView(stream), key };
  }

  async setPlayback(name: string, playback: StreamPlayback) {
    return fileView(this.store.setPlayback(name, playback));
  }

  async token(nameOrPlaybackId: string, ttlSeconds: number): Promise<MintedToken> {
    const secret = process.env.PLAYBACK_SECRET;
    if (!secret) throw new StreamStoreError('set PLAYBACK_SECRET (the secret the edge verifies tokens with) to mint tokens');
    // Only a stream of the store: a token for a name that is no stream's looked like a success
    // and opened nothing (open-mode streams are public: they need no token).
    const stream = this.store.find(nameOrPlaybackId);
    if (!stream) throw new StreamStoreError(`no stream named "${nameOrPlaybackId}" or with that playback id (see \`npm run streams -- list\`)`);
    const expiresAt = Math.floor(Date.now() / 1000) + Math.min(ttlSeconds, MAX_TOKEN_TTL_SECONDS);
    return { stream: fileView(stream), token: await mintPlaybackToken(secret, stream.playbackId, expiresAt), expiresAt: new Date(expiresAt * 1000).toISOString() };
  }

  async list() {
    return this.store.list().map(fileView);
  }

  async rotateKey(name: string) {
    const { stream, key } = this.store.rotateKey(name);
    return { stream: fileView(stream), key };
  }

  async remove(name: string) {
    return fileView(this.store.remove(name));
  }

  async setEnabled(): Promise<StreamView> {
    throw new StreamStoreError('streams.json has no disabled streams: enable/disable work on the platform registry (start the platform, or give --edge-url)');
  }
}

export class PlatformBackend implements StreamsBackend {
  readonly where: string;
  private readonly client: PlatformClient;

  constructor(client: PlatformClient) {
    this.client = client;
    this.where = `the platform registry at ${client.edgeUrl}`;
  }

  async add(name: string, playback: StreamPlayback) {
    const { stream, streamKey } = await this.client.create(name, { playback });
    return { stream: platformView(stream), key: streamKey };
  }

  async setPlayback(name: string, playback: StreamPlayback) {
    return platformView(await this.client.update(name, { playback }));
  }

  async token(nameOrPlaybackId: string, ttlSeconds: number): Promise<MintedToken> {
    const stream = (await this.client.list()).find((candidate) => candidate.name === nameOrPlaybackId || candidate.playbackId === nameOrPlaybackId);
    if (!stream) throw new StreamStoreError(`no stream named "${nameOrPlaybackId}" or with that playback id (see \`npm run streams -- list\`)`);
    const minted = await this.client.mintToken(stream.name, ttlSeconds);
    return { stream: platformView(stream), token: minted.token, expiresAt: minted.expiresAt };
  }

  async list() {
    return (await this.client.list()).map(platformView);
  }

  async rotateKey(name: string) {
    const { stream, streamKey } = await this.client.rotateKey(name);
    return { stream: platformView(stream), key: streamKey };
  }

  async remove(name: string) {
    return platformView(await this.client.remove(name));
  }

  async setEnabled(name: string, enabled: boolean) {
    return platformView(await this.client.update(name, { enabled }));
  }
}
