/**
 * Whether a blocking playlist reload (`_HLS_msn`, `_HLS_part`) is answered now, held, or refused:
 * draft-pantos-hls-rfc8216bis §6.2.5.2, as clients actually send it. Pure: the live state
 * describes where one rendition's playlist ends, this decides.
 *
 * - A part index past the last part of a segment the state knows whole counts on into the next
 *   segment: hls.js asks part N+1 of a segment whose last part was N, meaning the next segment's
 *   first part. It is held until that is listed, never refused.
 * - A request is refused (400) only when it is certainly beyond the spec's limits: more than two
 *   segments past the last listed one, or more than the Advance Part Limit past the newest part
 *   the edge has received. Parts received but not listed yet (a new session's parts wait for its
 *   segment's discontinuity) count as there, so whether the pending parts are listed right now
 *   never turns a held request into a refused one.
 * - Ready means the playlist holds what was asked for, or a later segment: never an older one.
 */

export interface PlaylistEnd {
  /** The rendition's playlist ended (EXT-X-ENDLIST): every request is answered with it. */
  ended: boolean;
  /** Media sequence number of the newest segment listed whole. */
  lastMsn: number;
  /** The number of parts of listed segment `msn`, when the state knows them; undefined: unknown. */
  partsOf(msn: number): number | undefined;
  /** Parts of segment lastMsn+1 listed in the playlist (after the last whole segment). */
  partsListed: number;
  /** One past the newest part index of segment lastMsn+1 the edge has received (listed or not). */
  partsReceived: number;
}

export interface BlockingTarget {
  msn: number;
  part?: number;
}

export type BlockingDecision = { kind: 'ready' } | { kind: 'wait' } | { kind: 'refuse'; reason: string };

/** The spec's Advance Part Limit: 3 ÷ PART-TARGET parts when PART-TARGET is under a second, else 3. */
export function advancePartLimit(partTarget: number): number {
  return partTarget > 0 && partTarget < 1 ? 3 / partTarget : 3;
}

const READY: BlockingDecision = { kind: 'ready' };
const WAIT: BlockingDecision = { kind: 'wait' };

export function decideBlocking(end: PlaylistEnd, target: BlockingTarget, partTarget: number): BlockingDecision {
  if (end.ended) return READY;
  let { msn, part } = target;
  // Part P of a segment with n parts, P >= n, is part P-n of the next one (§6.2.5.2's "part N+1").
  while (part !== undefined && msn <= end.lastMsn) {
    const count = end.partsOf(msn);
    if (count === undefined || part < count) break;
    part -= count;
    msn += 1;
  }
  // A segment listed whole holds all its parts (its parts unknown here: whole is the answer).
  if (msn <= end.lastMsn) return READY;
  if (msn > end.lastMsn + 2) {
    return { kind: 'refuse', reason: `_HLS_msn=${target.msn} is more than two segments past the playlist's last (${end.lastMsn})` };
  }
  if (part === undefined) return WAIT;
  if (msn === end.lastMsn + 1 && part < end.partsListed) return READY;
  // Parts ahead of the newest part received. Two segments on, the next segment's remaining parts
  // are not known yet: counted as none, so only a request certainly past the limit is refused.
  const ahead = msn === end.lastMsn + 1 ? part + 1 - end.partsReceived : part + 1;
  const limit = advancePartLimit(partTarget);
  if (ahead > limit) {
    return { kind: 'refuse', reason: `_HLS_part=${target.part} of segment ${target.msn} is more than ${Math.floor(limit)} parts (the Advance Part Limit) past the playlist's last part` };
  }
  return WAIT;
}
