/**
 * What goes in and out of a stream's low-latency live state: the sidecar's parts, viewers'
 * playlist, part and segment requests, and the answers. Plain data: they cross the Durable
 * Object's RPC boundary as they are.
 */
import type { PartAnnouncement } from '../../shared/low-latency.ts';
import type { BlockingTarget } from './blocking-decision.ts';

export interface IncomingPart extends PartAnnouncement {
  /** File name, `SESSION-T.pN.m4s`. */
  file: string;
  session: string;
  /** Its segment's media time (the segment's name). */
  segmentTime: number;
  index: number;
  bytes: Uint8Array<ArrayBuffer>;
  contentType: string;
}

/**
 * Facts of the stream fixed when it starts (its status document): EXT-X-SERVER-CONTROL and
 * EXT-X-PART-INF are computed from these only, so they read the same in every reload of every
 * rendition for the stream's life, whatever the live state holds (§6.2.1, §6.2.4).
 */
export interface StreamFacts {
  /** Nominal segment duration, seconds. */
  targetDuration: number;
  /** PART-TARGET, seconds. */
  partTarget: number;
}

export interface PlaylistRequest {
  rendition: string;
  block?: BlockingTarget;
  /** `_HLS_skip=YES`: a delta update, when the playlist offers one. */
  skip: boolean;
  /** The stream's status lists this rendition (a rendition with live state is known too). */
  listed?: boolean;
  facts?: StreamFacts;
  /** The viewer's address, when the runtime tells it: held requests per address are limited. */
  client?: string;
}

/** A held request refused for the limits: 503 with Retry-After. */
export interface Busy {
  kind: 'busy';
  reason: string;
  retryAfterSeconds: number;
}

export type PlaylistAnswer =
  /** The low-latency playlist (before any per-viewer rewriting), and the facts its caching depends on. */
  | { kind: 'playlist'; text: string; targetDuration: number; ended: boolean }
  /** No live state for this rendition: storage's playlist is the answer (a non-blocking request). */
  | { kind: 'unknown' }
  /** The stream has no such rendition (neither live state nor its status lists it): 404 at once. */
  | { kind: 'no-such-rendition' }
  | { kind: 'too-far'; reason: string }
  /** The target did not appear within the hold limit. */
  | { kind: 'timeout' }
  | Busy;

export type PartAnswer =
  | { kind: 'part'; bytes: Uint8Array<ArrayBuffer>; contentType: string }
  /** 404 at once (`no-store`); `reason` says why when the live state knows (a part that will not come). */
  | { kind: 'missing'; reason?: string }
  | Busy;

/**
 * A segment the live state listed from its parts, before storage has it: its bytes are its
 * parts' bytes end to end (exactly what the sidecar stores under that name). Never held.
 */
export type SegmentAnswer = { kind: 'segment'; bytes: Uint8Array<ArrayBuffer>; contentType: string } | { kind: 'missing' };

/** Requests refused so far, by why (exposed for metrics and tests). */
export interface RefusalCounts {
  unknownRendition: number;
  streamLimit: number;
  addressLimit: number;
}
