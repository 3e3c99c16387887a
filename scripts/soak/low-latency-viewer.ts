/**
 * A simulated low-latency HLS viewer for `npm run soak -- --viewer-kind low-latency`: it follows
 * its stream's video rendition and audio as hls.js does in low-latency mode (a blocking reload
 * for the part after the last one listed, at once after each answer), fetches the preload-hinted
 * part while the edge holds it, and every part newly listed that it does not have yet (a segment
 * only when it has none of its parts: joining, or fallen behind). One request in ten is abandoned
 * after ~30 ms, as a viewer leaving does: the request that made a call others joined may be one.
 */
import { percentile } from '../bench/measure.ts';
import { askedPart, readLowLatencyPlaylist, type LowLatencyPlaylist } from './low-latency-playlist.ts';

/** `blocking`: for a part; `segment-blocking`: for the next segment, when no part is listed. */
type RequestKind = 'playlist' | 'blocking' | 'segment-blocking' | 'hint' | 'part' | 'segment';

export interface LowLatencySoakStats {
  requests: Record<RequestKind, number>;
  /** Requests this side abandoned (the viewer leaving), not errors. */
  abandoned: number;
  /** Blocking reloads for a part answered with a playlist. */
  blockingAnswered: number;
  /** Seconds from the asked part's media end (PROGRAM-DATE-TIME) to the answer, per answered blocking reload that lists the part. */
  answerDelays: number[];
  /** Answered blocking reloads that do not list the part asked for (e.g. its segment listed without parts, storage behind): not timed. */
  answersWithoutAskedPart: number;
  /** Hinted parts answered 404 at once because the sidecar said they will not come (documented), by reason. */
  withdrawnHints: Map<string, number>;
  /** Every other failure ("STATUS kind", or the error's name): a count each. */
  errors: Map<string, number>;
  /** The first few failures in full (URL and body), to see what they were. */
  errorSamples: string[];
}

export function newLowLatencySoakStats(): LowLatencySoakStats {
  return { requests: { playlist: 0, blocking: 0, 'segment-blocking': 0, hint: 0, part: 0, segment: 0 }, abandoned: 0, blockingAnswered: 0, answerDelays: [], answersWithoutAskedPart: 0, withdrawnHints: new Map(), errors: new Map(), errorSamples: [] };
}

const TIMEOUT_MS = 10_000;
const LEAVING_AFTER_MS = 30;
const LEAVING_SHARE = 0.1;
const ERROR_SAMPLES = 20;
// The edge's words for a hinted part the sidecar said will not come (edge/low-latency/part-decision.ts).
const WILL_NOT_COME = /will not come: (.*)$/s;

/** The edge's error body is JSON (`{"error": "..."}`); anything else is taken as it is. */
function errorMessage(body: string): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === 'object' && 'error' in parsed && typeof parsed.error === 'string') return parsed.error;
  } catch {
    // Not JSON: the text itself.
  }
  return body.trim();
}

type Outcome<T> = { ok: true; value: T } | { ok: false; abandoned: boolean };

function count<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** One request as a viewer makes it: answered, abandoned on purpose (one in ten), or failed (counted). */
async function request(stats: LowLatencySoakStats, url: string, kind: RequestKind, as: 'text'): Promise<Outcome<string>>;
async function request(stats: LowLatencySoakStats, url: string, kind: RequestKind, as: 'bytes'): Promise<Outcome<ArrayBuffer>>;
async function request(stats: LowLatencySoakStats, url: string, kind: RequestKind, as: 'text' | 'bytes'): Promise<Outcome<string | ArrayBuffer>> {
  stats.requests[kind] += 1;
  const leaving = Math.random() < LEAVING_SHARE;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), leaving ? LEAVING_AFTER_MS : TIMEOUT_MS);
  const fail = (key: string, detail: string): Outcome<never> => {
    count(stats.errors, key);
    if (stats.errorSamples.length < ERROR_SAMPLES) stats.errorSamples.push(`${new Date().toISOString()} ${key} ${new URL(url).pathname}${new URL(url).search} ${detail}`.trim());
    return { ok: false, abandoned: false };
  };
  try {
    const response = await fetch(url, { signal: controller.signal });
    if (!response.ok) {
      const body = await response.text();
      const withdrawn = kind === 'hint' && response.status === 404 ? WILL_NOT_COME.exec(errorMessage(body)) : null;
      if (withdrawn) {
        count(stats.withdrawnHints, withdrawn[1]!);
        return { ok: false, abandoned: false };
      }
      return fail(`${response.status} ${kind}`, body.slice(0, 200));
    }
    return { ok: true, value: as === 'text' ? await response.text() : await response.arrayBuffer() };
  } catch (error) {
    if (leaving && controller.signal.aborted) {
      stats.abandoned += 1;
      return { ok: false, abandoned: true };
    }
    return fail(`${controller.signal.aborted ? 'timeout' : (error as Error).name} ${kind}`, (error as Error).message);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether `next` lists a part or segment that `previous` did not. */
function advanced(previous: LowLatencyPlaylist, next: LowLatencyPlaylist): boolean {
  const newest = (playlist: LowLatencyPlaylist) => `${playlist.segments.at(-1)?.msn}/${playlist.parts.at(-1)?.msn}.${playlist.parts.at(-1)?.index}`;
  return newest(previous) !== newest(next);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Follows one rendition's playlist by blocking reloads until `until` (or `stopped()`), fetching parts as a player would. */
async function followRendition(playlistUrl: string, stats: LowLatencySoakStats, until: number, stopped: () => boolean): Promise<void> {
  // Part and segment URLs this viewer has (or is fetching): never fetched twice.
  const have = new Set<string>();
  const seenSegments = new Set<string>();
  const fetches = new Set<Promise<unknown>>();
  const fetchInBackground = (url: string, kind: RequestKind) => {
    have.add(url);
    const fetching = request(stats, url, kind, 'bytes').then((outcome) => {
      // Not had after all (abandoned or refused): fetched again once it is listed.
      if (!outcome.ok) have.delete(url);
    });
    fetches.add(fetching);
    void fetching.finally(() => fetches.delete(fetching));
  };
  /** What a player takes from a playlist: new parts (a segment only when it has none of its parts), then the hint, held. */
  const take = (playlist: LowLatencyPlaylist, joining: boolean) => {
    for (const segment of playlist.segments) {
      if (seenSegments.has(segment.url)) continue;
      seenSegments.add(segment.url);
      // Joining, a player starts near the live edge: what is listed already is behind it.
      if (joining) segment.partUrls.forEach((url) => have.add(url));
      else if (!segment.partUrls.some((url) => have.has(url))) fetchInBackground(segment.url, 'segment');
    }
    for (const part of playlist.parts) {
      if (joining) have.add(part.url);
      else if (!have.has(part.url)) fetchInBackground(part.url, 'part');
    }
    if (playlist.hint !== undefined && !have.has(playlist.hint)) fetchInBackground(playlist.hint, 'hint');
  };

  let playlist: LowLatencyPlaylist | undefined;
  while (Date.now() < until && !stopped()) {
    if (!playlist?.next) {
      // Joining (or after a failure): a plain reload, as a player starts.
      const plain = await request(stats, playlistUrl, 'playlist', 'text');
      if (!plain.ok) {
        if (!plain.abandoned) await sleep(1000);
        continue;
      }
      playlist = readLowLatencyPlaylist(plain.value, playlistUrl);
      take(playlist, true);
      if (!playlist.next) await sleep(500);
      continue;
    }
    const { msn, part } = playlist.next;
    const answer = await request(stats, `${playlistUrl}?_HLS_msn=${msn}${part === undefined ? '' : `&_HLS_part=${part}`}`, part === undefined ? 'segment-blocking' : 'blocking', 'text');
    if (!answer.ok) {
      // Left: the next request asks the same again. Failed: start over with a plain reload.
      if (!answer.abandoned) {
        playlist = undefined;
        await sleep(1000);
      }
      continue;
    }
    const answeredAt = Date.now();
    const next = readLowLatencyPlaylist(answer.value, playlistUrl);
    if (part === undefined) {
      // Segments only (no parts listed for a while): not a part's answer, not timed.
      take(next, false);
      if (next.ended) break;
      playlist = next;
      continue;
    }
    stats.blockingAnswered += 1;
    const asked = askedPart(next, msn, part);
    if (asked?.mediaEndAt !== undefined) stats.answerDelays.push((answeredAt - asked.mediaEndAt) / 1000);
    else stats.answersWithoutAskedPart += 1;
    take(next, false);
    if (next.ended) break;
    if (!advanced(playlist, next)) {
      // Answered at once with nothing new (segments listed after the last part, without parts
      // of their own, while the sidecar's storage is behind): as hls.js does, no blocking reload
      // for a playlist that did not advance; a plain reload after half a target duration.
      await sleep(1000);
      playlist = undefined;
      continue;
    }
    playlist = next;
  }
  await Promise.allSettled([...fetches]);
}

/** One low-latency viewer of `stream`: its video rendition and its audio, each followed by blocking reloads. */
export async function lowLatencyViewer(origin: string, stream: string, until: number, stats: LowLatencySoakStats, stopped: () => boolean): Promise<void> {
  // Viewers do not all join at the same instant.
  await sleep(Math.random() * 1000);
  await Promise.all(['source', 'audio'].map((rendition) => followRendition(`${origin}/live/${stream}/${rendition}/index.m3u8`, stats, until, stopped)));
}

/** The figures a run reports, from its stats (JSON-ready). */
export function summarizeLowLatency(stats: LowLatencySoakStats) {
  const delays = stats.answerDelays;
  const errors = [...stats.errors.values()].reduce((sum, n) => sum + n, 0);
  return {
    requests: Object.values(stats.requests).reduce((sum, n) => sum + n, 0),
    requestsByKind: stats.requests,
    abandoned: stats.abandoned,
    blockingAnswered: stats.blockingAnswered,
    answersWithoutAskedPart: stats.answersWithoutAskedPart,
    answerDelaySeconds: { samples: delays.length, p50: percentile(delays, 0.5), p95: percentile(delays, 0.95), p99: percentile(delays, 0.99), max: delays.length > 0 ? delays.reduce((max, delay) => Math.max(max, delay), Number.NEGATIVE_INFINITY) : Number.NaN },
    withdrawnHints: Object.fromEntries(stats.withdrawnHints),
    errors,
    errorsByKind: Object.fromEntries(stats.errors),
    errorSamples: stats.errorSamples,
  };
}
