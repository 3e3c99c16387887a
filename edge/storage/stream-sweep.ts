/**
 * A sweep round the bucket's streams within a budget of storage reads: each sweep starts after
 * the stream the last one stopped at (a small cursor object of its own), so sweeps get to every
 * stream however many there are. Recordings' expiry and stale broadcasts each keep a cursor.
 */
import { isPlaybackId } from '../../shared/playback-id.ts';
import { STREAMS_PREFIX } from '../../shared/storage/layout.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';

/** The streams this sweep looks at, at most `budget`: those after the cursor, then from the first again. */
export async function streamsToSweep(store: ObjectStore, cursorKey: string, budget: number): Promise<string[]> {
  if (!store.listChildren) return [];
  const cursor = await readCursor(store, cursorKey);
  const later = await store.listChildren(STREAMS_PREFIX, budget, cursor);
  const earlier = later.length < budget && cursor !== undefined ? await store.listChildren(STREAMS_PREFIX, budget - later.length) : [];
  return [...new Set([...later, ...earlier])].filter(isPlaybackId);
}

/** Where the next sweep starts: after `playbackId`. */
export async function saveSweepCursor(store: ObjectStore, cursorKey: string, playbackId: string): Promise<void> {
  await store.put(cursorKey, playbackId, { contentType: 'text/plain' });
}

async function readCursor(store: ObjectStore, cursorKey: string): Promise<string | undefined> {
  const object = await store.get(cursorKey);
  if (!object) return undefined;
  const text = (await new Response(object.body).text()).trim();
  // Anything else (a damaged object) starts from the first stream again.
  return isPlaybackId(text) ? text : undefined;
}
