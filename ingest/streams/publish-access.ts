/**
 * Who may publish, and as which stream: the RTMP stream name is either a stream key (looked up
 * in the stream store; the stream's public playback id becomes its id) or, in open mode for
 * local development, the stream id itself.
 *
 * Open mode lasts only while no stream is configured: a configured stream's id must never be
 * publishable without its key, so the first stream added (with the CLI, while the sidecar runs)
 * ends open mode for the life of the process, loudly.
 */
import { isPlaybackId } from '../../shared/playback-id.ts';
import type { AccessDecision, AccessMode, AccessPolicy, LiveCredential } from './access-policy.ts';
import { STREAM_KEY_PATTERN, type StreamStore } from './stream-store.ts';

export type { AccessDecision, AccessMode } from './access-policy.ts';

export interface PublishAccessOptions {
  /** Called once, when a stream appears in the store of a sidecar started in open mode. */
  onOpenModeEnded?: (configuredStreams: number) => void;
}

export class PublishAccess implements AccessPolicy {
  private currentMode: AccessMode;
  private readonly store: StreamStore;
  private readonly options: PublishAccessOptions;

  constructor(mode: AccessMode, store: StreamStore, options: PublishAccessOptions = {}) {
    this.currentMode = mode;
    this.store = store;
    this.options = options;
    this.refreshMode();
  }

  /** `open` only while open mode was asked for and no stream is configured. */
  get mode(): AccessMode {
    return this.currentMode;
  }

  /** Leaves open mode once the store holds a stream (read on every publish and by the registry's periodic check). */
  refreshMode(): AccessMode {
    if (this.currentMode === 'open') {
      const configured = this.store.list().length;
      if (configured > 0) {
        this.currentMode = 'keyed';
        this.options.onOpenModeEnded?.(configured);
      }
    }
    return this.currentMode;
  }

  /** Whether a publisher that came in with this key may stay: its key not rotated, its stream not removed. */
  stillAccepts(playbackId: string, credential: string): boolean {
    return this.store.list().some((stream) => stream.playbackId === playbackId && stream.keySha256 === credential);
  }

  revoked(live: readonly LiveCredential[]): string[] {
    return live.filter(({ playbackId, credential }) => !this.stillAccepts(playbackId, credential)).map(({ playbackId }) => playbackId);
  }

  /** Whether a configured stream has this playback id. */
  isConfigured(playbackId: string): boolean {
    return this.store.list().some((stream) => stream.playbackId === playbackId);
  }

  resolve(rtmpName: string): AccessDecision {
    // The store is read on every publish: a key added or rotated with the CLI counts at once.
    const configured = this.store.findByKey(rtmpName);
    if (configured) {
      const outputs = configured.outputs?.map(({ id, url, key }) => ({ id, url, key }));
      return { playbackId: configured.playbackId, name: configured.name, playback: configured.playback ?? 'public', credential: configured.keySha256, ...(outputs ? { outputs } : {}) };
    }
    if (this.refreshMode() === 'keyed' || STREAM_KEY_PATTERN.test(rtmpName)) {
      // Also in open mode: a key-shaped name that matches no stream (a rotated key, say) must
      // not become a public stream id.
      return { refuse: 'unknown stream key' };
    }
    if (!isPlaybackId(rtmpName)) return { refuse: 'stream name must be 1-64 letters, digits, "-" or "_"' };
    return { playbackId: rtmpName, name: rtmpName, playback: 'public' };
  }
}
