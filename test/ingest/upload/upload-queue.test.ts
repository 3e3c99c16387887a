/** The upload queue on its own: lanes come back in order, the buffer is bounded, refusals are not retried. */
import { describe, expect, it } from 'vitest';
import { UploadQueue, type Upload, type UploadState } from '../../../ingest/upload/upload-queue.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import type { PutOptions } from '../../../shared/storage/object-store.ts';

class Refused extends Error {
  readonly retryable = false;
}

/** A store whose writes wait until the test releases them by key; a key may be refused. */
class GatedStore extends MemoryObjectStore {
  private readonly gates = new Map<string, () => void>();
  readonly refuse = new Set<string>();
  attempts = 0;

  override async put(key: string, body: Uint8Array | string, options: PutOptions): Promise<void> {
    this.attempts += 1;
    await new Promise<void>((resolve) => this.gates.set(key, resolve));
    if (this.refuse.has(key)) throw new Refused(`refused ${key}`);
    await super.put(key, body, options);
  }

  async release(key: string): Promise<void> {
    for (let i = 0; i < 50 && !this.gates.has(key); i++) await new Promise((resolve) => setTimeout(resolve, 1));
    this.gates.get(key)?.();
    this.gates.delete(key);
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
}

function segment(key: string, bytes = 10): Upload {
  return { key, chunks: [new Uint8Array(bytes)], byteLength: bytes, contentType: 'video/mp4', droppable: true, label: 'segment' };
}

function queue(store: GatedStore, bufferBytes = 1000) {
  const taken: string[] = [];
  const errors: string[] = [];
  let dropped = 0;
  const uploads: UploadQueue<string> = new UploadQueue<string>({
    store,
    limits: { parallelUploads: 4, bufferBytes, backoff: { initialDelayMs: 1, maxDelayMs: 2 } },
    now: () => 0,
    backlogWarningMs: 60_000,
    onError: (error) => errors.push(String(error)),
    onSettled: async (lane) => {
      for (const item of uploads.takeSettled(lane)) taken.push(`${item.value}:${item.state satisfies UploadState}`);
    },
    metrics: { timeUpload: () => () => {}, segmentDropped: () => void (dropped += 1) },
  });
  return { uploads, taken, errors, dropped: () => dropped };
}

describe('upload queue', () => {
  it.each([
    { name: 'in order', release: ['a', 'b', 'c'], expected: ['a:stored', 'b:stored', 'c:stored'] },
    { name: 'in reverse order: nothing is handed back before the first is stored', release: ['c', 'b', 'a'], expected: ['a:stored', 'b:stored', 'c:stored'] },
    { name: 'the middle one first', release: ['b', 'a', 'c'], expected: ['a:stored', 'b:stored', 'c:stored'] },
  ])('hands a lane back in the order it went in, whatever order storage finishes: $name', async ({ release, expected }) => {
    const store = new GatedStore();
    const { uploads, taken } = queue(store);
    for (const name of ['a', 'b', 'c']) uploads.enqueue('source', segment(name), name);
    const seen: number[] = [];
    for (const name of release) {
      await store.release(name);
      seen.push(taken.length);
    }
    await uploads.idle();
    expect(taken).toEqual(expected);
    // Released from the end: nothing before `a`.
    if (release[0] === 'c') expect(seen.slice(0, 2)).toEqual([0, 0]);
  });

  it('keeps lanes apart: one lane waiting on storage holds back no other', async () => {
    const store = new GatedStore();
    const { uploads, taken } = queue(store);
    uploads.enqueue('source', segment('slow'), 'slow');
    uploads.enqueue('audio', segment('fast'), 'fast');
    await store.release('fast');
    expect(taken).toEqual(['fast:stored']);
    await store.release('slow');
    await uploads.idle();
    expect(taken).toEqual(['fast:stored', 'slow:stored']);
  });

  it('drops the oldest waiting segments beyond the buffer, says so, and counts them', async () => {
    const store = new GatedStore();
    const { uploads, taken, errors, dropped } = queue(store, 25);
    for (const name of ['a', 'b', 'c', 'd']) uploads.enqueue('source', segment(name), name);
    for (const name of ['a', 'b', 'c', 'd']) await store.release(name);
    await uploads.idle();
    expect(taken).toEqual(['a:dropped', 'b:dropped', 'c:stored', 'd:stored']);
    expect(dropped()).toBe(2);
    expect(errors.some((error) => /dropped the 1 oldest/.test(error))).toBe(true);
  });

  it('does not retry a refusal: the object is dropped and the error reported', async () => {
    const store = new GatedStore();
    store.refuse.add('a');
    const { uploads, taken, errors } = queue(store);
    uploads.enqueue('source', segment('a'), 'a');
    uploads.enqueue('source', segment('b'), 'b');
    await store.release('a');
    await store.release('b');
    await uploads.idle();
    expect(taken).toEqual(['a:dropped', 'b:stored']);
    expect(store.attempts).toBe(2);
    expect(errors).toEqual(['Error: refused a']);
  });
});
