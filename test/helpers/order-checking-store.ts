/** An ObjectStore for publisher tests that checks the listing contract on every write and delete. */
import { parse as parseMpd } from 'mpd-parser';
import { parseMediaPlaylist } from '../../shared/hls/media-playlist.ts';
import { MemoryObjectStore } from '../../shared/storage/memory-object-store.ts';
import type { PutOptions } from '../../shared/storage/object-store.ts';
import { parseM3u8 as parse } from './m3u8.ts';

/** Checks, at every playlist write, that everything the playlist lists is already stored; keeps every version. */
export class OrderCheckingStore extends MemoryObjectStore {
  readonly violations: string[] = [];
  readonly writes: string[] = [];
  readonly versions = new Map<string, string[]>();

  override async put(key: string, body: Uint8Array | string, options: PutOptions): Promise<void> {
    this.writes.push(key);
    if (key.endsWith('.m3u8')) {
      const text = String(body);
      this.versions.set(key, [...(this.versions.get(key) ?? []), text]);
      const dir = key.slice(0, key.lastIndexOf('/') + 1);
      const manifest = parse(text);
      // A gap (EXT-X-GAP) is listed for its number and time, not its media: only its init segment must be stored.
      const gaps = new Set(manifest.segments?.length ? parseMediaPlaylist(text).segments.filter((s) => s.gap).map((s) => s.uri) : []);
      const listed = [
        ...(manifest.segments ?? []).flatMap((s) => [gaps.has(s.uri) ? undefined : s.uri, s.map?.uri]),
        ...(manifest.playlists ?? []).map((p) => p.uri),
        ...Object.values(manifest.mediaGroups?.AUDIO ?? {}).flatMap((group) => Object.values(group).map((r) => r.uri)),
      ].filter((uri): uri is string => Boolean(uri));
      for (const uri of listed) if (!this.objects.has(dir + uri)) this.violations.push(`${key} lists ${uri} before it is stored`);
    }
    if (key.endsWith('.mpd')) {
      const text = String(body);
      this.versions.set(key, [...(this.versions.get(key) ?? []), text]);
      const base = `http://edge/${key}`;
      const now = Date.parse(/publishTime="([^"]+)"/.exec(text)![1]!);
      const manifest = parseMpd(text, { manifestUri: base, NOW: now });
      const playlists = [...manifest.playlists, ...Object.values(manifest.mediaGroups.AUDIO).flatMap((group) => Object.values(group).flatMap((r) => r.playlists))];
      for (const segment of playlists.flatMap((playlist) => playlist.segments)) {
        for (const url of [segment.resolvedUri, segment.map?.resolvedUri]) {
          const objectKey = url && new URL(url).pathname.slice(1);
          if (objectKey && !this.objects.has(objectKey)) this.violations.push(`${key} lists ${objectKey} before it is stored`);
        }
      }
    }
    await super.put(key, body, options);
  }

  readonly deletes: string[] = [];

  /** A delete must not remove anything the newest stored playlist or MPD still lists. */
  override async delete(key: string): Promise<void> {
    this.deletes.push(key);
    for (const [manifestKey, versions] of this.versions) {
      if (listedObjects(manifestKey, versions.at(-1)!).includes(key)) this.violations.push(`deleted ${key} while ${manifestKey} lists it`);
    }
    await super.delete(key);
  }
}

/** The object keys a stored playlist or MPD lists. */
export function listedObjects(key: string, text: string): string[] {
  if (key.endsWith('.mpd')) {
    const now = Date.parse(/publishTime="([^"]+)"/.exec(text)![1]!);
    const manifest = parseMpd(text, { manifestUri: `http://edge/${key}`, NOW: now });
    const playlists = [...manifest.playlists, ...Object.values(manifest.mediaGroups.AUDIO).flatMap((group) => Object.values(group).flatMap((r) => r.playlists))];
    return playlists
      .flatMap((playlist) => playlist.segments)
      .flatMap((segment) => [segment.resolvedUri, segment.map?.resolvedUri])
      .filter((url): url is string => Boolean(url))
      .map((url) => new URL(url).pathname.slice(1));
  }
  const dir = key.slice(0, key.lastIndexOf('/') + 1);
  return (parse(text).segments ?? []).flatMap((s) => [s.uri, s.map?.uri]).filter((uri): uri is string => Boolean(uri)).map((uri) => dir + uri);
}

