/** How much memory the Node and Deno edges give to copies of stored objects (`--cache-mb`, EDGE_CACHE_MB). */
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import { ForgettingStore, MemoryObjectCache } from '../cache/memory-object-cache.ts';

/** Megabytes by default: a few minutes of a few popular ladders' segments, and every stream's playlists. */
export const DEFAULT_CACHE_MB = 256;

/** Megabytes from a flag's or variable's text, or why it is not a size (a whole number, 0 for no cache). */
export function parseCacheMegabytes(text: string): { ok: true; megabytes: number } | { ok: false; reason: string } {
  const megabytes = Number(text);
  if (text.trim() === '' || !Number.isInteger(megabytes) || megabytes < 0 || megabytes > 1_048_576) return { ok: false, reason: `expected megabytes as a whole number from 0 (no cache) to 1048576, got ${JSON.stringify(text.slice(0, 40))}` };
  return { ok: true, megabytes };
}

/**
 * A cache of that many megabytes (none for 0) over `storage`, and the store everything in the edge
 * process writes through: each of its writes drops the copy it replaces (ForgettingStore).
 */
export function withMemoryCache(storage: ObjectStore, megabytes: number): { store: ObjectStore; memoryCache?: MemoryObjectCache } {
  if (megabytes <= 0) return { store: storage };
  const memoryCache = new MemoryObjectCache(megabytes * 1024 * 1024);
  return { store: new ForgettingStore(storage, memoryCache), memoryCache };
}
