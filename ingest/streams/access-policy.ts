/**
 * Who may publish, as the sidecar's stream registry asks it: a local streams.json
 * (publish-access.ts) or the platform's registry on the edge (platform-access.ts).
 */
import type { RestreamTarget } from '../restream/restream-target.ts';
import type { StreamPlayback } from './stream-store.ts';

export type AccessDecision =
  /** `name` is the stream's name in logs and events: the operator's name for it, never the key. */
  | {
      playbackId: string;
      name: string;
      playback: StreamPlayback;
      /** For a keyed stream, the SHA-256 of the key it published with (see revoked). */
      credential?: string;
      /** The platform registry's settings of the stream; absent or null: the sidecar's own flags. */
      reconnectWindowSeconds?: number | null;
      retention?: 'window' | 'all' | null;
      /** Whether the stream records (README: Recordings); absent or null: when its retention is `all`. */
      recording?: boolean | null;
      /** Days its recordings are kept once they end; absent or null: the sidecar's --recording-days. */
      recordingDays?: number | null;
      /** Where the stream is restreamed to (ingest/restream/); absent: nowhere. */
      outputs?: readonly RestreamTarget[];
    }
  /** `code` labels the refusal in metrics (default: unknown-key / invalid-name by the reason). */
  | { refuse: string; code?: string };

export type AccessMode = 'open' | 'keyed';

export interface LiveCredential {
  playbackId: string;
  credential: string;
}

export interface AccessPolicy {
  /** `open` only while open mode was asked for and no stream is configured. */
  readonly mode: AccessMode;
  /** Looks again whether a stream was configured (ends open mode); called every few seconds. */
  refreshMode(): AccessMode;
  /** The RTMP stream name (a key, or in open mode a stream id) decided; a promise when it takes a network call. */
  resolve(rtmpName: string): AccessDecision | Promise<AccessDecision>;
  /**
   * What is already known of this name without asking anyone (a key accepted a moment ago), or
   * undefined; never a reason to accept, only to refuse early (see StreamRegistry.decide).
   */
  known?(rtmpName: string): AccessDecision | undefined;
  /** The stream ids among these whose publisher must go: its key rotated, its stream disabled or removed. */
  revoked(live: readonly LiveCredential[]): string[] | Promise<string[]>;
  /** Whether a configured stream has this playback id (for journals from before `keyed` was recorded). */
  isConfigured(playbackId: string): boolean;
}
