/**
 * The numbers a stream's segments are listed under (pure): each session (one run of the stream's
 * media, one timeline) starts at its base, the number after the furthest any rendition cut
 * before it, and each number remembers what the first rendition to cut it cut (its duration and
 * clock), for the renditions that missed it.
 */

/** What some rendition cut under a number: what another rendition that missed it lists as its gap. */
export interface GridCell {
  /** Seconds. */
  duration: number;
  /** Epoch milliseconds. */
  programDateTime: number;
}

// Cells kept beyond the oldest number still to be listed (a rendition lagging that far behind still finds what it missed).
const CELLS_KEPT = 64;

export class SegmentGrid {
  /** Per session begun, the number of its grid's first cell. */
  private readonly bases = new Map<string, number>();
  /** Per number, what the first rendition to cut it cut. */
  private readonly cells = new Map<number, GridCell>();

  /** A session's grid starts at `base` (the number after the furthest any rendition cut). */
  begin(session: string, base: number): void {
    if (this.bases.has(session)) throw new Error(`session ${session} already begun`);
    this.bases.set(session, base);
  }

  /** The number of the session's first segment. */
  base(session: string): number {
    const base = this.bases.get(session);
    if (base === undefined) throw new Error(`session ${session} was never begun`);
    return base;
  }

  /** A rendition cut `sequence` (the first to do so is remembered); cells older than `oldestNeeded` minus a margin go. */
  note(sequence: number, cell: GridCell, oldestNeeded: number): void {
    if (this.cells.has(sequence)) return;
    this.cells.set(sequence, { duration: cell.duration, programDateTime: cell.programDateTime });
    for (const kept of this.cells.keys()) {
      if (kept >= oldestNeeded - CELLS_KEPT) continue;
      this.cells.delete(kept);
    }
  }

  cell(sequence: number): GridCell | undefined {
    return this.cells.get(sequence);
  }
}
