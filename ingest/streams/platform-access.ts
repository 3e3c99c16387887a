/**
 * Who may publish, decided by the platform's stream registry on the edge: the sidecar sends the
 * SHA-256 of the presented key (never the key) over the ingest channel (a registry token from the
 * ingest secret) and decides before any media is read (RtmpServer holds the connection meanwhile).
 *
 * - Answers are cached briefly (CACHE_MS), so a publisher's quick reconnects cost no round trip.
 * - Edge unreachable (or failing) at publish time: a key the edge accepted within the last
 *   ACCEPTED_MEMORY_MS (at most MAX_ACCEPTED keys remembered) is accepted again, so a publisher
 *   whose connection dropped during an edge outage gets back in; every other key is refused
 *   ("stream registry unreachable"): fail closed. Open mode (no stream configured) also needs an
 *   answer: a keyless name is refused while the edge cannot say the registry is empty.
 * - Live publishers are checked every couple of seconds (StreamRegistry.checkCredentials): a key
 *   rotated, a stream disabled or removed drops its publisher. While the edge does not answer,
 *   live publishers are kept (only an answer revokes).
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { isPlaybackId } from '../../shared/playback-id.ts';
import { REGISTRY_LOOKUP_PATH, registryLookupToken, type LookupResponse, type LookupStream } from '../../shared/registry-lookup.ts';
import { STREAM_KEY_PATTERN, streamKeySha256 } from '../../shared/stream-keys.ts';
import type { AccessDecision, AccessMode, AccessPolicy, LiveCredential } from './access-policy.ts';

const CACHE_MS = 2_000;
const ACCEPTED_MEMORY_MS = 10 * 60_000;
const MAX_ACCEPTED = 1_000;
const LOOKUP_TIMEOUT_MS = 2_000;

export interface PlatformAccessOptions {
  /** The edge origin, e.g. http://127.0.0.1:8080 */
  edgeUrl: string;
  ingestSecret: string;
  /** Open mode asked for: keyless names publish while the registry holds no stream. */
  open: boolean;
  log: Logger;
  /** Called once, when the registry of a sidecar started in open mode gets a stream. */
  onOpenModeEnded?: (configuredStreams: number) => void;
  now?: () => number;
}

export class RegistryUnreachable extends Error {
  override name = 'RegistryUnreachable';
}

export class PlatformAccess implements AccessPolicy {
  private readonly options: PlatformAccessOptions;
  private currentMode: AccessMode;
  private readonly answers = new Map<string, { stream: LookupStream | null; at: number }>();
  /** Keys the edge accepted, most recent last (a Map keeps insertion order). */
  private readonly accepted = new Map<string, { stream: LookupStream; at: number }>();
  private refreshing = false;

  constructor(options: PlatformAccessOptions) {
    this.options = options;
    this.currentMode = options.open ? 'open' : 'keyed';
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  get mode(): AccessMode {
    return this.currentMode;
  }

  /** Asks the edge in the background whether a stream was configured; the mode changes when it answers. */
  refreshMode(): AccessMode {
    if (this.currentMode === 'open' && !this.refreshing) {
      this.refreshing = true;
      void this.lookup([])
        .catch(() => undefined)
        .finally(() => (this.refreshing = false));
    }
    return this.currentMode;
  }

  /** The edge's answer for these key hashes (and how many streams it holds). */
  async lookup(keys: readonly string[]): Promise<LookupResponse> {
    let response: Response;
    try {
      response = await fetch(new URL(REGISTRY_LOOKUP_PATH, this.options.edgeUrl), {
        method: 'POST',
        headers: { authorization: `Bearer ${await registryLookupToken(this.options.ingestSecret, this.now())}`, 'content-type': 'application/json' },
        body: JSON.stringify({ keys }),
        signal: AbortSignal.timeout(LOOKUP_TIMEOUT_MS),
      });
    } catch (error) {
      throw new RegistryUnreachable(`the stream registry at ${this.options.edgeUrl} did not answer (${(error as Error).message})`);
    }
    if (!response.ok) throw new RegistryUnreachable(`the stream registry at ${this.options.edgeUrl} answered ${response.status}: ${(await response.text()).slice(0, 200)}`);
    const answer = (await response.json()) as LookupResponse;
    this.noteConfigured(answer.configured);
    const at = this.now();
    keys.forEach((key, index) => this.remember(key, answer.streams[index] ?? null, at));
    return answer;
  }

  private noteConfigured(configured: number): void {
    if (this.currentMode === 'open' && configured > 0) {
      this.currentMode = 'keyed';
      this.options.onOpenModeEnded?.(configured);
    }
  }

  private remember(key: string, stream: LookupStream | null, at: number): void {
    this.answers.set(key, { stream, at });
    if (this.answers.size > MAX_ACCEPTED) this.answers.delete(this.answers.keys().next().value!);
    if (stream?.enabled) {
      this.accepted.delete(key);
      this.accepted.set(key, { stream, at });
      if (this.accepted.size > MAX_ACCEPTED) this.accepted.delete(this.accepted.keys().next().value!);
    } else {
      // Refused by the edge: never accepted from memory again.
      this.accepted.delete(key);
    }
  }

  /** A key the edge accepted (and has not refused since): its stream, from memory. */
  known(rtmpName: string): AccessDecision | undefined {
    if (!STREAM_KEY_PATTERN.test(rtmpName)) return undefined;
    // Synchronous (node:crypto): asked while node-media-server waits for nothing.
    const hash = createHash('sha256').update(rtmpName).digest('hex');
    const remembered = this.accepted.get(hash);
    return remembered ? { playbackId: remembered.stream.playbackId, name: remembered.stream.name, playback: remembered.stream.playback, credential: hash } : undefined;
  }

  resolve(rtmpName: string): Promise<AccessDecision> {
    return STREAM_KEY_PATTERN.test(rtmpName) ? this.resolveKey(rtmpName) : this.resolveName(rtmpName);
  }

  private async resolveKey(key: string): Promise<AccessDecision> {
    const hash = await streamKeySha256(key);
    const cached = this.answers.get(hash);
    let stream: LookupStream | null;
    if (cached && this.now() - cached.at < CACHE_MS) {
      stream = cached.stream;
    } else {
      try {
        stream = (await this.lookup([hash])).streams[0] ?? null;
      } catch (error) {
        if (!(error instanceof RegistryUnreachable)) throw error;
        const remembered = this.accepted.get(hash);
        if (!remembered || this.now() - remembered.at > ACCEPTED_MEMORY_MS) {
          this.options.log.warn(error.message);
          return { refuse: 'stream registry unreachable; try again shortly', code: 'registry-unreachable' };
        }
        this.options.log.warn({ stream: remembered.stream.name }, `${error.message}: accepting a key the registry accepted ${Math.round((this.now() - remembered.at) / 1000)} s ago`);
        stream = remembered.stream;
      }
    }
    if (!stream) return { refuse: 'unknown stream key' };
    if (!stream.enabled) return { refuse: `stream "${stream.name}" is disabled`, code: 'disabled' };
    return { playbackId: stream.playbackId, name: stream.name, playback: stream.playback, credential: hash, reconnectWindowSeconds: stream.reconnectWindowSeconds, retention: stream.retention, ...(stream.recording != null ? { recording: stream.recording } : {}), ...(stream.recordingDays != null ? { recordingDays: stream.recordingDays } : {}), ...(stream.outputs ? { outputs: stream.outputs } : {}) };
  }

  private async resolveName(name: string): Promise<AccessDecision> {
    if (this.currentMode === 'open') {
      try {
        await this.lookup([]);
      } catch (error) {
        if (!(error instanceof RegistryUnreachable)) throw error;
        this.options.log.warn(error.message);
        return { refuse: 'stream registry unreachable; try again shortly', code: 'registry-unreachable' };
      }
    }
    if (this.currentMode === 'keyed') return { refuse: 'unknown stream key' };
    if (!isPlaybackId(name)) return { refuse: 'stream name must be 1-64 letters, digits, "-" or "_"' };
    return { playbackId: name, name, playback: 'public' };
  }

  async revoked(live: readonly LiveCredential[]): Promise<string[]> {
    let answer: LookupResponse;
    try {
      answer = await this.lookup(live.map((entry) => entry.credential));
    } catch (error) {
      if (!(error instanceof RegistryUnreachable)) throw error;
      // Only an answer revokes: an edge that does not answer drops nobody.
      return [];
    }
    return live.filter((entry, index) => {
      const stream = answer.streams[index];
      return !stream || !stream.enabled || stream.playbackId !== entry.playbackId;
    }).map((entry) => entry.playbackId);
  }

  /** Journals from before `keyed` was recorded: a stream of a keyed platform is taken as keyed. */
  isConfigured(): boolean {
    return this.currentMode === 'keyed';
  }
}
