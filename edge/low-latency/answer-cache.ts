/**
 * The location's copy of canonical low-latency answers (Workers: the Cache API, one per
 * location, shared by its isolates): a blocking playlist answer for a given `_HLS_msn`/`_HLS_part`
 * and a part's bytes, before any per-viewer rewrite, under keys without tokens. Another isolate
 * of the location then answers from here instead of calling the stream's Durable Object again.
 *
 * What may be kept, and how long: a blocking answer is a playlist holding at least what its URL
 * asked for, valid for as long as any answer to that URL (the route tells caches six target
 * durations); the location keeps it three, as long as the live state would hold a request for
 * it. A part's bytes never change under its name; kept as long as the live state serves it
 * (three target durations). Nothing else is kept: refusals, timeouts and
 * "missing" may change a moment later.
 */
import type { ResponseCache } from '../cache/cached-object-store.ts';
import type { PartAnswer, PlaylistAnswer, PlaylistRequest } from './live-state-types.ts';

// Cache keys are URLs; this host never resolves: the entries are this origin's own.
const CACHE_ORIGIN = 'https://low-latency-answer.invalid/';
const TARGET_DURATION_HEADER = 'x-target-duration';
const ENDED_HEADER = 'x-ended';

/** The key of a blocking playlist request's canonical answer: everything that shapes it, and nothing of the viewer. */
export function playlistAnswerKey(playbackId: string, request: Omit<PlaylistRequest, 'client'>): string {
  const block = request.block ? `${request.block.msn}.${request.block.part ?? ''}` : 'now';
  const facts = request.facts ? `${request.facts.targetDuration}.${request.facts.partTarget}` : '';
  return `${encodeURIComponent(playbackId)}/${encodeURIComponent(request.rendition)}/index.m3u8?block=${block}&skip=${request.skip ? 1 : 0}&listed=${request.listed ? 1 : 0}&facts=${facts}`;
}

export function partAnswerKey(playbackId: string, rendition: string, file: string): string {
  return `${encodeURIComponent(playbackId)}/${encodeURIComponent(rendition)}/${encodeURIComponent(file)}`;
}

/** Three target durations: the live state's hold limit, and how long it serves a part after it leaves the playlist. */
function keptSeconds(targetDuration: number): number {
  return Math.max(1, Math.round(3 * (targetDuration || 2)));
}

export class AnswerCache {
  private readonly cache: ResponseCache;

  constructor(cache: ResponseCache) {
    this.cache = cache;
  }

  async playlist(key: string): Promise<PlaylistAnswer | undefined> {
    const hit = await this.match(key);
    if (!hit) return undefined;
    return { kind: 'playlist', text: await hit.text(), targetDuration: Number(hit.headers.get(TARGET_DURATION_HEADER)) || 2, ended: hit.headers.get(ENDED_HEADER) === '1' };
  }

  /** Keeps a blocking request's playlist answer (only a playlist: any other answer may change at once). */
  keepPlaylist(key: string, answer: PlaylistAnswer): Promise<void> {
    if (answer.kind !== 'playlist') return Promise.resolve();
    const headers = { 'content-type': 'application/vnd.apple.mpegurl', [TARGET_DURATION_HEADER]: String(answer.targetDuration), [ENDED_HEADER]: answer.ended ? '1' : '0' };
    return this.put(key, new Response(answer.text, { headers: { ...headers, 'cache-control': `max-age=${keptSeconds(answer.targetDuration)}` } }));
  }

  async part(key: string): Promise<PartAnswer | undefined> {
    const hit = await this.match(key);
    if (!hit) return undefined;
    return { kind: 'part', bytes: new Uint8Array(await hit.arrayBuffer()), contentType: hit.headers.get('content-type') ?? 'video/mp4' };
  }

  keepPart(key: string, answer: PartAnswer, targetDuration: number): Promise<void> {
    if (answer.kind !== 'part') return Promise.resolve();
    const headers = { 'content-type': answer.contentType, 'cache-control': `max-age=${keptSeconds(targetDuration)}` };
    return this.put(key, new Response(answer.bytes, { headers }));
  }

  /** A cache that fails is a miss: the live state answers. */
  private async match(key: string): Promise<Response | undefined> {
    return (await this.cache.match(CACHE_ORIGIN + key).catch(() => undefined)) ?? undefined;
  }

  /** A failed write costs another isolate one call, nothing more. */
  private put(key: string, response: Response): Promise<void> {
    return this.cache.put(CACHE_ORIGIN + key, response).catch(() => undefined);
  }
}
