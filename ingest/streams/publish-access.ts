/**
 * Who may publish, and as which stream: the RTMP stream name is either a stream key (looked up
 * in the stream store; the stream's public playback id becomes its id) or, in open mode for
 * local development, the stream id itself.
 */
import { isStreamId } from '../../shared/stream-id.ts';
import { STREAM_KEY_PATTERN, type StreamPlayback, type StreamStore } from './stream-store.ts';

export type AccessDecision =
  /** `label` names the stream in logs: the operator's name, never the key. */
  | {
      streamId: string;
      label: string;
      playback: StreamPlayback;
      /** For a keyed stream, the SHA-256 of the key it published with (see stillAccepts). */
      credential?: string;
    }
  | { refuse: string };

export type AccessMode = 'open' | 'keyed';

export class PublishAccess {
  readonly mode: AccessMode;
  private readonly store: StreamStore;

  constructor(mode: AccessMode, store: StreamStore) {
    this.mode = mode;
    this.store = store;
  }

  /** Whether a publisher that came in with this key may stay: its key not rotated, its stream not removed. */
  stillAccepts(streamId: string, credential: string): boolean {
    return this.store.list().some((stream) => stream.playbackId === streamId && stream.keySha256 === credential);
  }

  resolve(rtmpName: string): AccessDecision {
    // The store is read on every publish: a key added or rotated with the CLI counts at once.
    const configured = this.store.findByKey(rtmpName);
    if (configured) return { streamId: configured.playbackId, label: configured.name, playback: configured.playback ?? 'public', credential: configured.keySha256 };
    if (this.mode === 'keyed' || STREAM_KEY_PATTERN.test(rtmpName)) {
      // Also in open mode: a key-shaped name that matches no stream (a rotated key, say) must
      // not become a public stream id.
      return { refuse: 'unknown stream key' };
    }
    if (!isStreamId(rtmpName)) return { refuse: 'stream name must be 1-64 letters, digits, "-" or "_"' };
    return { streamId: rtmpName, label: rtmpName, playback: 'public' };
  }
}
