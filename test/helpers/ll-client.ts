/**
 * A low-latency HLS client as the spec's clients behave (rfc8216bis §6.3.5), following one
 * rendition: a blocking reload for the part after the newest, the preload-hinted part asked for
 * the moment it is hinted (held by the edge until it exists), every listed part fetched once, and
 * every part that leaves the playlist fetched again at once and near three target durations later
 * (§6.2.2: it must stay served that long). What it got is kept to be checked (`llClientProblems`).
 */
import { concatBytes } from '../../ingest/package/bytes.ts';
import { parseM3u8 } from './m3u8.ts';

export interface FetchedBytes {
  status: number;
  /** The bytes themselves, compared exactly (parts are tens of kilobytes). */
  bytes?: Uint8Array;
}

export interface LlClientRecord {
  rendition: string;
  /** Playlist versions seen, in order: media sequence number of the newest segment and parts listed after it. */
  versions: Array<{ lastMsn: number; pendingParts: number; status: number }>;
  /** Each hinted part, as answered to the request made while it was hinted. */
  hinted: Map<string, FetchedBytes>;
  /** Each listed part, fetched once when first listed. */
  listed: Map<string, FetchedBytes>;
  /** Parts that left the playlist: fetched again at once, and again `laterMs` after. */
  leftAtOnce: Map<string, FetchedBytes>;
  leftLater: Map<string, FetchedBytes>;
  /** Each whole segment whose every part was listed: its parts in order, and the segment fetched. */
  segments: Map<string, { parts: string[]; fetched?: FetchedBytes }>;
  /** Blocking reloads answered with anything but 200. */
  reloadFailures: string[];
}

export interface LlClient {
  /** Stops following, waits for every fetch under way (the later re-fetches too), returns the record. */
  stop(): Promise<LlClientRecord>;
}

/** What the client reads of a parsed media playlist (m3u8-parser's types leave these loose). */
interface ParsedMediaPlaylist {
  mediaSequence?: number;
  segments?: Array<{ uri: string; parts?: Array<{ uri: string }> }>;
  preloadSegment?: { parts?: Array<{ uri: string }>; preloadHints?: Array<{ type: string; uri: string }> };
}

async function fetchBytes(url: string, timeoutMs = 10_000): Promise<FetchedBytes> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) {
      await response.body?.cancel();
      return { status: response.status };
    }
    return { status: response.status, bytes: new Uint8Array(await response.arrayBuffer()) };
  } catch {
    return { status: 0 };
  }
}

/** Follows `playlistUrl` (a media playlist: `.../REND/index.m3u8`); parts that left are fetched again `laterMs` after. */
export function followLowLatency(playlistUrl: string, rendition: string, laterMs: number): LlClient {
  const base = playlistUrl.slice(0, playlistUrl.lastIndexOf('/') + 1);
  const record: LlClientRecord = { rendition, versions: [], hinted: new Map(), listed: new Map(), leftAtOnce: new Map(), leftLater: new Map(), segments: new Map(), reloadFailures: [] };
  const pending: Promise<unknown>[] = [];
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let running = true;
  let current = new Set<string>();
  const keep = (promise: Promise<unknown>) => void pending.push(promise);

  const loop = (async () => {
    let query = '';
    while (running) {
      let response: Response;
      try {
        response = await fetch(playlistUrl + query, { signal: AbortSignal.timeout(15_000) });
      } catch (error) {
        response = Response.error();
        if (running) record.reloadFailures.push(`${query || '(plain)'}: ${String(error)}`);
      }
      if (!response.ok) {
        if (response.type !== 'error') record.reloadFailures.push(`${query || '(plain)'}: HTTP ${response.status} ${await response.text()}`);
        // Asked plainly again, after a pause (an edge refusing connections is not asked in a tight loop).
        query = '';
        await new Promise((resolve) => setTimeout(resolve, 200));
        continue;
      }
      const manifest = parseM3u8(await response.text()) as unknown as ParsedMediaPlaylist;
      const segments = manifest.segments ?? [];
      const lastMsn = (manifest.mediaSequence ?? 0) + segments.length - 1;
      const pendingParts = manifest.preloadSegment?.parts ?? [];
      record.versions.push({ lastMsn, pendingParts: pendingParts.length, status: response.status });
      const listedNow = new Set<string>();
      for (const segment of segments) {
        const parts = (segment.parts ?? []).map((part) => part.uri);
        for (const uri of parts) listedNow.add(uri);
        // A segment listed with its first part is listed with all of them: its bytes are theirs.
        if (parts.length > 0 && /\.p0\.m4s$/.test(parts[0]!) && !record.segments.has(segment.uri)) {
          const entry: { parts: string[]; fetched?: FetchedBytes } = { parts };
          record.segments.set(segment.uri, entry);
          keep(fetchBytes(base + segment.uri).then((fetched) => (entry.fetched = fetched)));
        }
      }
      for (const part of pendingParts) listedNow.add(part.uri);
      for (const uri of listedNow) {
        if (!record.listed.has(uri)) {
          record.listed.set(uri, { status: -1 });
          keep(fetchBytes(base + uri).then((fetched) => record.listed.set(uri, fetched)));
        }
      }
      for (const uri of current) {
        if (listedNow.has(uri) || record.leftAtOnce.has(uri)) continue;
        keep(fetchBytes(base + uri).then((fetched) => record.leftAtOnce.set(uri, fetched)));
        record.leftAtOnce.set(uri, { status: -1 });
        const timer = setTimeout(() => {
          timers.delete(timer);
          keep(fetchBytes(base + uri).then((fetched) => record.leftLater.set(uri, fetched)));
        }, laterMs);
        timers.add(timer);
      }
      current = listedNow;
      const hint = manifest.preloadSegment?.preloadHints?.find((candidate) => candidate.type === 'PART')?.uri;
      if (hint !== undefined && !record.hinted.has(hint)) {
        record.hinted.set(hint, { status: -1 });
        keep(fetchBytes(base + hint, 15_000).then((fetched) => record.hinted.set(hint, fetched)));
      }
      // The part after the newest listed: in the segment being cut (its first when none is listed yet).
      query = `?_HLS_msn=${lastMsn + 1}&_HLS_part=${pendingParts.length}`;
    }
  })();

  return {
    async stop() {
      running = false;
      await loop;
      // Re-fetches scheduled for parts that left the playlist are kept: they are what is checked.
      while (timers.size > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      // Every fetch is under way by now (the last timers' included).
      await Promise.all(pending);
      return record;
    },
  };
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return a !== undefined && b !== undefined && a.byteLength === b.byteLength && a.every((byte, index) => byte === b[index]);
}

/** What the client found that the playlists did not keep: each a line naming the rendition and the URI. */
export function llClientProblems(record: LlClientRecord): string[] {
  const problems: string[] = [];
  const say = (line: string) => problems.push(`${record.rendition}: ${line}`);
  for (const failure of record.reloadFailures) say(`blocking reload ${failure}`);
  for (let index = 1; index < record.versions.length; index++) {
    const [before, after] = [record.versions[index - 1]!, record.versions[index]!];
    if (after.lastMsn < before.lastMsn || (after.lastMsn === before.lastMsn && after.pendingParts < before.pendingParts)) {
      say(`playlist went back: segment ${before.lastMsn} + ${before.pendingParts} parts, then ${after.lastMsn} + ${after.pendingParts}`);
    }
  }
  for (const [uri, fetched] of record.listed) if (fetched.status !== 200) say(`listed part ${uri} answered ${fetched.status}`);
  for (const [uri, held] of record.hinted) {
    const listed = record.listed.get(uri);
    if (held.status === 404) {
      if (listed) say(`hinted part ${uri} answered 404 while held, then listed`);
    } else if (held.status !== 200) say(`hinted part ${uri} answered ${held.status} while held`);
    else if (listed && !sameBytes(held.bytes, listed.bytes)) say(`hinted part ${uri}: the held answer's ${held.bytes!.byteLength} bytes differ from the listed part's ${listed.bytes?.byteLength}`);
  }
  for (const [label, fetchedAfter] of [['at once', record.leftAtOnce], ['later', record.leftLater]] as const) {
    for (const [uri, fetched] of fetchedAfter) {
      if (fetched.status !== 200) say(`part ${uri} answered ${fetched.status} ${label} after it left the playlist`);
      else if (!sameBytes(fetched.bytes, record.listed.get(uri)?.bytes)) say(`part ${uri}: other bytes ${label} after it left the playlist`);
    }
  }
  for (const [uri, segment] of record.segments) {
    const parts = segment.parts.map((part) => record.listed.get(part)?.bytes);
    if (segment.fetched?.status !== 200) say(`segment ${uri} answered ${segment.fetched?.status}`);
    else if (parts.every((part) => part !== undefined) && !sameBytes(segment.fetched.bytes, concatBytes(parts as Uint8Array[]))) say(`segment ${uri} is not its listed parts end to end`);
  }
  return problems;
}
