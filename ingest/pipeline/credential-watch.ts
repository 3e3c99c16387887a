/**
 * A key rotated, or a stream disabled or removed (CLI, management API), takes effect for the
 * publisher already live too: every few seconds the live publishers' key hashes are checked with
 * the access policy, and a revoked one is dropped (its stream then waits for a publisher with a
 * valid key, as after any drop).
 */
import type { Logger } from 'pino';
import type { AccessPolicy, LiveCredential } from '../streams/access-policy.ts';

// A revoked key's publisher is gone within this and one registry answer (< 5 s).
export const CREDENTIAL_CHECK_MS = 2_000;

export interface WatchedPublishers {
  /** Live publishers that came in with a key: their stream's playback id and key hash. */
  live(): LiveCredential[];
  /** Drops the publisher of `playbackId` if it is still the one that came in with `credential`. */
  drop(playbackId: string, credential: string): void;
}

export class CredentialWatch {
  private readonly access: AccessPolicy;
  private readonly publishers: WatchedPublishers;
  private readonly log: Logger;
  private readonly timer: NodeJS.Timeout;
  private checking = false;

  constructor(access: AccessPolicy, publishers: WatchedPublishers, log: Logger) {
    this.access = access;
    this.publishers = publishers;
    this.log = log;
    this.timer = setInterval(() => this.check(), CREDENTIAL_CHECK_MS);
    this.timer.unref();
  }

  check(): void {
    if (this.checking) return;
    // A stream added while the sidecar runs in open mode ends open mode (logged by the access policy).
    this.access.refreshMode();
    const live = this.publishers.live();
    if (live.length === 0) return;
    const revoked = this.access.revoked(live);
    if (Array.isArray(revoked)) {
      this.dropRevoked(revoked, live);
      return;
    }
    // One check at a time: a slow registry does not pile up requests.
    this.checking = true;
    void revoked
      .then(
        (ids) => this.dropRevoked(ids, live),
        (error: unknown) => this.log.warn({ err: error }, "could not check the live publishers' keys; checking again shortly"),
      )
      .finally(() => (this.checking = false));
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private dropRevoked(playbackIds: readonly string[], checked: readonly LiveCredential[]): void {
    for (const playbackId of playbackIds) {
      const credential = checked.find((entry) => entry.playbackId === playbackId)?.credential;
      if (credential) this.publishers.drop(playbackId, credential);
    }
  }
}
