/**
 * Why a player stalled, from what was recorded around it: the buffer ahead of the playhead, the
 * media requests then in flight (and how long they had been), and how the edge's listing of parts
 * stood (see part-listing.ts). Pure: it reads records, it measures nothing.
 */
import { listingAt, type ListedPart } from './part-listing.ts';
import type { SegmentRequest, StallRecord } from './players.ts';

export interface StallEvidence {
  /** Wall clock of the stall, ISO time of day. */
  at: string;
  currentTime: number;
  bufferedAhead: number;
  /** The video's buffered ranges then: a hole behind the playhead is media the player skipped. */
  ranges: string[];
  /** Media requests open at the stall: the file's name, how long it had been open (ms), and how long it took in all (ms; null: never done). */
  inFlight: { file: string; openMs: number; tookMs: number | null }[];
  /** The slowest media request that finished in the 3 s before the stall (ms). */
  slowestRecentMs: number | null;
  /** How long before the stall the newest part was listed (ms), per rendition followed. */
  sinceNewestListedMs: Record<string, number | null>;
  /** How late against the stream's clock parts were listed around the stall (ms above the run's best), per rendition followed. */
  listingLatenessMs: Record<string, number | null>;
}

export function stallEvidence(stall: StallRecord, requests: readonly SegmentRequest[], listings: Readonly<Record<string, readonly ListedPart[]>>): StallEvidence {
  const open = requests.filter((request) => request.at <= stall.at && (request.doneAt === undefined || request.doneAt > stall.at));
  const recent = requests.filter((request) => request.doneAt !== undefined && request.doneAt <= stall.at && request.doneAt >= stall.at - 3000);
  const sinceNewestListedMs: Record<string, number | null> = {};
  const listingLatenessMs: Record<string, number | null> = {};
  for (const [name, parts] of Object.entries(listings)) {
    const listing = listingAt(parts, stall.at);
    sinceNewestListedMs[name] = listing.sinceNewestMs;
    listingLatenessMs[name] = listing.maxLatenessMs;
  }
  return {
    at: new Date(stall.at).toISOString().slice(11, 23),
    currentTime: Number(stall.currentTime.toFixed(2)),
    bufferedAhead: Number(stall.bufferedAhead.toFixed(2)),
    ranges: stall.ranges,
    inFlight: open.map((request) => ({
      file: new URL(request.url).pathname.split('/').slice(-2).join('/'),
      openMs: stall.at - request.at,
      tookMs: request.doneAt === undefined ? null : request.doneAt - request.at,
    })),
    slowestRecentMs: recent.length === 0 ? null : Math.max(...recent.map((request) => request.doneAt! - request.at)),
    sinceNewestListedMs,
    listingLatenessMs,
  };
}
