/**
 * What a viewer's request for a low-latency part gets, from what the rendition's live state knows
 * of that name: its bytes, a hold until it comes (the part the preload hint names), or a 404 with
 * the reason, at once. Pure: the live state passes its facts in, every case is tested alone.
 */

/** What the live state knows of one part name of one rendition. */
export interface PartFacts {
  /** Its bytes are held (listed, or left the playlist not long ago). */
  held: boolean;
  /** The part the newest announcement said comes next (undefined: none is expected). */
  hint: string | undefined;
  /** Why the sidecar said this part will not come (undefined: it never said so). */
  withdrawn: string | undefined;
}

export type PartDecision = { kind: 'serve' } | { kind: 'hold' } | { kind: 'missing'; reason: string };

/** A part neither held nor expected: older than the part window, or never announced. */
export const UNKNOWN_PART = 'no such part: parts exist only near the live edge, for a few target durations';
/** A held request whose part did not come within the hold limit (the stream stalled). */
export const PART_DID_NOT_COME = 'the part did not come within the hold limit (three target durations): the stream stalled';

/** The reason a part that will not come is answered with (the sidecar's words, or what the edge saw). */
export function partWillNotCome(file: string, why: string): string {
  return `part ${file} will not come: ${why}`;
}

export function decidePart(file: string, facts: PartFacts): PartDecision {
  // Bytes win: a part that came after all (a reconnect sends the last ones again) is what it is.
  if (facts.held) return { kind: 'serve' };
  if (facts.withdrawn !== undefined) return { kind: 'missing', reason: partWillNotCome(file, facts.withdrawn) };
  if (facts.hint === file) return { kind: 'hold' };
  return { kind: 'missing', reason: UNKNOWN_PART };
}
