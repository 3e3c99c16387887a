/**
 * Watches live playlists the way a player does and checks the contract that matters most: no
 * version of a playlist ever lists an object the edge cannot serve.
 */
import { parseM3u8 } from './m3u8.ts';

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
  let running = true;

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
    const uris = [...manifest.segments.flatMap((segment) => [segment.uri, segment.map?.uri]), ...parts].filter((uri): uri is string => Boolean(uri));
    for (const uri of uris) {
      const objectUrl = new URL(uri, url).href;
      if (verified.has(objectUrl)) continue;
      const object = await fetch(objectUrl, { method: 'HEAD', signal: AbortSignal.timeout(5000) }).catch(() => undefined);
      if (object?.status === 200) verified.add(objectUrl);
      // No answer at all is the edge being down (a restart under test), not a missing object:
      // the object is asked for again with the next version.
      else if (object === undefined) continue;
      else missing.push(`${url} -> ${objectUrl}: ${object.status}`);
    }
  }

  const loop = (async () => {
    while (running) {
      await Promise.all(urls.map(check));
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();

  return {
    versions,
    missing,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}
