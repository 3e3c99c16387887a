/**
 * When the edge listed each part of a live media playlist, against the part's own media time:
 * the evidence that tells a player that stalled on a part answered late from a stream whose
 * source (the publisher, the ladder's encoder on a busy machine) fell behind real time.
 * `partsOf` is pure; `followPartListing` polls a playlist as a plain (non-blocking) client.
 */

export interface PartTime {
  uri: string;
  /** Where the part's media ends on the stream's clock (EXT-X-PROGRAM-DATE-TIME plus durations), epoch ms. */
  mediaEnd: number;
}

export interface ListedPart extends PartTime {
  /** When a poll first saw it listed, epoch ms. */
  firstSeen: number;
}

/**
 * The parts a media playlist lists with where each ends on the program-date-time clock; parts
 * of the open segment (after the last EXTINF) are counted on from the last closed segment's end.
 */
export function partsOf(playlist: string): PartTime[] {
  const parts: PartTime[] = [];
  let segmentStart: number | undefined;
  let offset = 0;
  for (const line of playlist.split('\n')) {
    if (line.startsWith('#EXT-X-PROGRAM-DATE-TIME:')) {
      segmentStart = Date.parse(line.slice('#EXT-X-PROGRAM-DATE-TIME:'.length));
      offset = 0;
    } else if (line.startsWith('#EXT-X-PART:')) {
      const duration = Number(/DURATION=([\d.]+)/.exec(line)?.[1] ?? Number.NaN);
      const uri = /URI="([^"]+)"/.exec(line)?.[1];
      offset += duration * 1000;
      if (segmentStart !== undefined && uri !== undefined && Number.isFinite(offset)) parts.push({ uri, mediaEnd: segmentStart + offset });
    } else if (line.startsWith('#EXTINF:')) {
      // The next segment starts where this one ends, whether or not it has its own date.
      if (segmentStart !== undefined) segmentStart += Number(line.slice('#EXTINF:'.length).split(',')[0]) * 1000;
      offset = 0;
    }
  }
  return parts;
}

export interface PartListing {
  /** Every part seen, in the order first listed. */
  parts(): ListedPart[];
  stop(): Promise<void>;
}

/** Polls `playlistUrl` every `intervalMs` and keeps when each part was first listed. */
export function followPartListing(playlistUrl: string, intervalMs = 250): PartListing {
  const seen = new Map<string, ListedPart>();
  let running = true;
  const loop = (async () => {
    while (running) {
      const polled = Date.now();
      try {
        const response = await fetch(playlistUrl, { signal: AbortSignal.timeout(5000) });
        if (response.ok) {
          for (const part of partsOf(await response.text())) if (!seen.has(part.uri)) seen.set(part.uri, { ...part, firstSeen: polled });
        }
      } catch {
        // A poll that failed is a gap in the record, not a test failure: the players' own checks say what a viewer saw.
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, intervalMs - (Date.now() - polled))));
    }
  })();
  return {
    parts: () => [...seen.values()],
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/**
 * The listing around `at`: how long before it the newest part was listed, and how far behind the
 * stream's clock the parts first listed within `windowMs` either side of it were (each part's
 * listing delay less the smallest delay in the 10 s before, so the publisher's and the clocks'
 * fixed offsets drop out): a large lateness means the stream itself came late, not the player.
 */
export function listingAt(parts: readonly ListedPart[], at: number, windowMs = 3000): { sinceNewestMs: number | null; maxLatenessMs: number | null } {
  const before = parts.filter((part) => part.firstSeen <= at);
  if (before.length === 0) return { sinceNewestMs: null, maxLatenessMs: null };
  // The best delay of the 10 s before: a publisher that fell behind real time and never caught up
  // moves every later part's delay, and only what changed around `at` tells of it.
  const baseline = parts.filter((part) => part.firstSeen >= at - 10_000 && part.firstSeen <= at + windowMs);
  const floor = Math.min(...baseline.map((part) => part.firstSeen - part.mediaEnd));
  const recent = parts.filter((part) => Math.abs(part.firstSeen - at) <= windowMs);
  return {
    sinceNewestMs: at - Math.max(...before.map((part) => part.firstSeen)),
    maxLatenessMs: recent.length === 0 ? null : Math.round(Math.max(...recent.map((part) => part.firstSeen - part.mediaEnd - floor))),
  };
}
