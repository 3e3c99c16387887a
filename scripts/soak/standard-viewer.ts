/**
 * A simulated standard HLS viewer for `npm run soak` (the default `--viewer-kind standard`): it
 * reloads its stream's video and audio playlists every second (plain reloads, no blocking) and
 * fetches every segment newly listed. What the run measures from it: failed requests, and when
 * each segment was first seen listed against its media end (EXT-X-PROGRAM-DATE-TIME).
 */
import { parseMediaSegments } from '../bench/segment-timeline.ts';

export interface StandardSoakStats {
  requests: number;
  errors: string[];
  /** Segment URL -> first time a viewer saw it listed (epoch ms) and its media end (epoch ms). */
  firstSeen: Map<string, { seenAt: number; mediaEndAt?: number }>;
}

export function newStandardSoakStats(): StandardSoakStats {
  return { requests: 0, errors: [], firstSeen: new Map() };
}

/** Seconds from each segment's media end to the first time a viewer saw it listed. */
export function availabilityDelays(stats: StandardSoakStats): number[] {
  return [...stats.firstSeen.values()].filter((entry) => entry.mediaEndAt !== undefined).map((entry) => (entry.seenAt - entry.mediaEndAt!) / 1000);
}

const TIMEOUT_MS = 10_000;

/** A whole response body (text for playlists), or undefined after counting the error; the timeout covers the body too. */
async function get(stats: StandardSoakStats, url: string, as: 'text'): Promise<string | undefined>;
async function get(stats: StandardSoakStats, url: string, as: 'bytes'): Promise<ArrayBuffer | undefined>;
async function get(stats: StandardSoakStats, url: string, as: 'text' | 'bytes'): Promise<string | ArrayBuffer | undefined> {
  stats.requests += 1;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
    if (!response.ok) {
      stats.errors.push(`${response.status} ${new URL(url).pathname}`);
      await response.body?.cancel();
      return undefined;
    }
    return as === 'text' ? await response.text() : await response.arrayBuffer();
  } catch (error) {
    stats.errors.push(`${(error as Error).name} ${new URL(url).pathname}`);
    return undefined;
  }
}

/** One viewer of one stream: its two media playlists, reloaded every half target duration, and every new segment. */
export async function standardViewer(origin: string, stream: string, until: number, stats: StandardSoakStats, stopped: () => boolean): Promise<void> {
  const playlists = ['source', 'audio'].map((rendition) => `${origin}/live/${stream}/${rendition}/index.m3u8`);
  const fetched = new Set<string>();
  // Viewers do not all reload at the same instant.
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 1000));
  while (Date.now() < until && !stopped()) {
    const started = Date.now();
    await Promise.all(
      playlists.map(async (url) => {
        const text = await get(stats, url, 'text');
        if (text === undefined) return;
        const seenAt = Date.now();
        for (const segment of parseMediaSegments(text)) {
          const segmentUrl = new URL(segment.uri, url).href;
          if (!stats.firstSeen.has(segmentUrl)) {
            stats.firstSeen.set(segmentUrl, { seenAt, mediaEndAt: segment.programDateTime === undefined ? undefined : segment.programDateTime + segment.duration * 1000 });
          }
          if (fetched.has(segmentUrl)) continue;
          // A player joining fetches the newest few, then every new one.
          fetched.add(segmentUrl);
          if (fetched.size > 3 || seenAt - stats.firstSeen.get(segmentUrl)!.seenAt < 1000) {
            await get(stats, segmentUrl, 'bytes');
          }
        }
      }),
    );
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, 1000 - (Date.now() - started))));
  }
}
