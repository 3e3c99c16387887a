import { describe, expect, it } from 'vitest';
import { createApp } from '../../../edge/app.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import type { ByteRange } from '../../../shared/storage/object-store.ts';
import { putStreamStatus } from '../../helpers/edge-app.ts';

/** A store that records every key the edge asks it for. */
class RecordingStore extends MemoryObjectStore {
  readonly asked: string[] = [];
  override get(key: string, range?: ByteRange) {
    this.asked.push(key);
    return super.get(key, range);
  }
  override head(key: string) {
    this.asked.push(key);
    return super.head(key);
  }
}

describe('hostile requests to the edge', () => {
  const cases = [
    { name: 'double-encoded dot-dot', path: '/live/colors/%252e%252e/other/index.m3u8' },
    { name: 'an encoded slash', path: '/live/colors/source%2F..%2F..%2Fother%2Findex.m3u8' },
    { name: 'a backslash', path: '/live/colors/source\\..\\other/index.m3u8' },
    { name: 'an encoded backslash', path: '/live/colors/source%5C..%5Cindex.m3u8' },
    { name: 'a NUL byte', path: '/live/colors/source/index.m3u8%00.js' },
    { name: 'full-width dots', path: '/live/colors/%EF%BC%8E%EF%BC%8E/index.m3u8' },
    { name: 'an unknown stream', path: '/live/nobody/index.m3u8' },
    { name: 'a stream id with a dot', path: '/live/col.ors/index.m3u8' },
    { name: 'an overlong URL', path: `/live/colors/${'a'.repeat(10_000)}/index.m3u8` },
    { name: 'an overlong stream id', path: `/live/${'a'.repeat(65)}/index.m3u8` },
    { name: 'the write API without credentials', path: '/_ingest/objects/streams/colors/index.m3u8' },
  ];

  // URL parsing (the client's, then the runtime's) resolves these before any route sees them:
  // they are plain requests for stream "other", and must read nothing but its prefix.
  it.each([
    { name: 'dot-dot segments', path: '/live/colors/../other/index.m3u8' },
    { name: 'encoded dot-dot', path: '/live/colors/%2e%2e/other/index.m3u8' },
  ])('resolves $name as URLs do, reading only the resolved stream', async ({ path }) => {
    const store = new RecordingStore();
    await store.put('streams/other/index.m3u8', '#EXTM3U\n', { contentType: 'application/vnd.apple.mpegurl' });
    await putStreamStatus(store, 'other');
    const app = createApp({ store, ingestSecret: 'secret', assets: { hlsJsVersion: '1', hlsJsSource: '', dashJsVersion: '1', dashJsSource: '' } });
    expect((await app.request(path)).status).toBe(200);
    expect(store.asked).toEqual(['streams/other/status.json', 'streams/other/index.m3u8']);
  });

  it.each(cases)('refuses $name with a 4xx, reading nothing outside the requested stream', async ({ path }) => {
    const store = new RecordingStore();
    await store.put('streams/other/index.m3u8', '#EXTM3U\n', { contentType: 'application/vnd.apple.mpegurl' });
    const app = createApp({ store, ingestSecret: 'secret', assets: { hlsJsVersion: '1', hlsJsSource: '', dashJsVersion: '1', dashJsSource: '' } });
    const response = await app.request(path);
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(await response.json()).toEqual({ error: expect.any(String) });
    const requestedStream = /^\/live\/([^/]+)\//.exec(new URL(path, 'http://edge').pathname)?.[1];
    for (const key of store.asked) expect(key.startsWith(`streams/${requestedStream}/`), `read ${key} for ${path}`).toBe(true);
    expect(store.asked.some((key) => key.startsWith('streams/other/'))).toBe(false);
  });
});
