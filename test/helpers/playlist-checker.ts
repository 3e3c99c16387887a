/**
 * Watches live playlists the way a player does and checks the contract that matters most: no
 * version of a playlist ever lists an object the edge cannot serve.
 */
import { isGap, parseM3u8 } from './m3u8.ts';

export interface PlaylistChecker {
  /** Distinct playlist versions seen, per URL. */
  versions: Map<string, string[]>;
  /** "playlist URL -> object URL: status" for every listed object that was not served. */
  missing: string[];
  stop(): Promise<void>;
}

export function watchPlaylists(urls: string[], intervalMs = 400): PlaylistChecker {
  const versions = new Map<string, string[]>(urls.map((url) => [url, []]));
  const missing: string[] = [];
  const verified = new Set<string>();
  // Objects the edge could not answer for yet (down, restarting, its storage down: no answer or a
  // 5xx): asked again on every round while the newest version of their playlist lists them, and
  // missing if it still lists them unserved when the checker stops. One no longer listed is
  // forgotten: it was listed only while the edge could not be asked (a restart losing parts).
  const unsettled = new Map<string, string>();
  const listedNow = new Map<string, Set<string>>();
  let running = true;

  /** Whether the object was served; a 4xx is recorded as missing, no answer or a 5xx leaves it unsettled. */
  async function verify(playlistUrl: string, objectUrl: string): Promise<void> {
    const object = await fetch(objectUrl, { method: 'HEAD', signal: AbortSignal.timeout(5000) }).catch(() => undefined);
    if (object?.status === 200) {
      verified.add(objectUrl);
      unsettled.delete(objectUrl);
    } else if (object === undefined || object.status >= 500) {
      unsettled.set(objectUrl, playlistUrl);
    } else {
      unsettled.delete(objectUrl);
      missing.push(`${playlistUrl} -> ${objectUrl}: ${object.status}`);
    }
  }

  async function check(url: string): Promise<void> {
    const response = await fetch(url, { signal: AbortSignal.timeout(5000) }).catch(() => undefined);
    if (!response?.ok) return;
    const text = await response.text();
    const seen = versions.get(url)!;
    if (seen.at(-1) === text) return;
    seen.push(text);
    const manifest = parseM3u8(text);
    // Low-latency parts too: listed means servable, like segments (the preload hint is not listed yet).
    const lowLatency = manifest as unknown as { segments: Array<{ parts?: Array<{ uri: string }> }>; preloadSegment?: { parts?: Array<{ uri: string }> } };
    const parts = [...lowLatency.segments.flatMap((segment) => segment.parts ?? []), ...(lowLatency.preloadSegment?.parts ?? [])].map((part) => part.uri);
    // A gap (EXT-X-GAP) lists a number and a duration, no media: players do not load it.
    const uris = [...manifest.segments.flatMap((segment) => [isGap(segment) ? undefined : segment.uri, segment.map?.uri]), ...parts].filter((uri): uri is string => Boolean(uri));
    const objectUrls = uris.map((uri) => new URL(uri, url).href);
    listedNow.set(url, new Set(objectUrls));
    // All at once: a version that lists many new objects (a backlog drained after an outage)
    // must not hold the next look at the playlist back by one request per object.
    await Promise.all(objectUrls.filter((objectUrl) => !verified.has(objectUrl)).map((objectUrl) => verify(url, objectUrl)));
  }

  const recheckUnsettled = async () => {
    for (const [objectUrl, playlistUrl] of unsettled) {
      if (!listedNow.get(playlistUrl)?.has(objectUrl)) unsettled.delete(objectUrl);
    }
    await Promise.all([...unsettled].map(([objectUrl, playlistUrl]) => verify(playlistUrl, objectUrl)));
  };

  const round = async () => {
    await Promise.all(urls.map(check));
    await recheckUnsettled();
  };
  const loop = (async () => {
    while (running) {
      await round();
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();

  return {
    versions,
    missing,
    stop: async () => {
      running = false;
      await loop;
      // One more look: the newest version (an ended playlist the caller just waited for) is seen and checked too.
      await round();
      for (const [objectUrl, playlistUrl] of unsettled) missing.push(`${playlistUrl} -> ${objectUrl}: never served (no answer or a 5xx until the end)`);
      unsettled.clear();
    },
  };
}
