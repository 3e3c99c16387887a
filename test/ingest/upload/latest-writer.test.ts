/** A replaced object's writer says how long its newest versions have waited to be stored (what withholds parts while playlists cannot be written). */
import { describe, expect, it } from 'vitest';
import { LatestWriter } from '../../../ingest/upload/latest-writer.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import type { PutOptions } from '../../../shared/storage/object-store.ts';

class DownStore extends MemoryObjectStore {
  down = true;
  override async put(key: string, body: Uint8Array | string, options: PutOptions): Promise<void> {
    if (this.down) throw Object.assign(new Error('503 storage down'), { retryable: true });
    await super.put(key, body, options);
  }
}

describe('latest writer', () => {
  it('counts the wait from the first version not stored, through retries and newer versions, and stops once the newest is stored', async () => {
    let now = 1_000;
    const store = new DownStore();
    const writer = new LatestWriter(store, 'streams/colors/source/index.m3u8', 'application/vnd.apple.mpegurl', { initialDelayMs: 1, maxDelayMs: 5 }, () => now);
    expect(writer.waitingMs).toBe(0);
    const first = writer.write('#EXTM3U\n#1\n');
    now += 1500;
    void writer.write('#EXTM3U\n#2\n');
    now += 1000;
    expect(writer.waitingMs).toBe(2500);
    store.down = false;
    await first;
    expect(writer.upToDate).toBe(true);
    expect(writer.waitingMs).toBe(0);
    expect(new TextDecoder().decode(store.objects.get('streams/colors/source/index.m3u8')!.bytes)).toBe('#EXTM3U\n#2\n');
  });
});
