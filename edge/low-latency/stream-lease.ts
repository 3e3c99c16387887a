/**
 * One writer per stream (issue 16): the stream's live state grants a lease to one holder (a
 * sidecar's broadcast of the stream) for a time-to-live that every heartbeat of its live channel
 * renews. Pure: the clock is passed in.
 */
import type { LeaseRequest } from '../../shared/live-channel-protocol.ts';

export interface Lease extends LeaseRequest {
  /** Epoch milliseconds; past it, anyone may take the stream. */
  expiresAt: number;
}

export type LeaseDecision = { grant: true; replaces?: Lease } | { grant: false; reason: string };

/**
 * Who gets the stream: anyone while nobody holds it or the holder's lease has run out; the
 * holding sidecar itself again (a reconnecting channel, or its next broadcast of the stream);
 * nobody else.
 */
export function decideLease(current: Lease | undefined, request: LeaseRequest, now: number): LeaseDecision {
  if (!current || now >= current.expiresAt) return { grant: true };
  if (current.sidecar === request.sidecar) return { grant: true, replaces: current };
  const seconds = Math.ceil((current.expiresAt - now) / 1000);
  return { grant: false, reason: `the stream is being published through another sidecar (its lease runs ${seconds} s more unless renewed)` };
}
