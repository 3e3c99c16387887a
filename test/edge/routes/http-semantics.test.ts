import { describe, expect, it } from 'vitest';
import { edgeAppForTest, putStreamStatus } from '../../helpers/edge-app.ts';

const SEGMENT = '/live/colors/source/abcdefgh1-0.m4s';
const bytes = Uint8Array.from({ length: 1000 }, (_, i) => i % 251);

async function app() {
  const test = edgeAppForTest();
  await putStreamStatus(test.store, 'colors');
  await test.store.put('streams/colors/source/abcdefgh1-0.m4s', bytes, { contentType: 'video/mp4' });
  await test.store.put('streams/colors/source/index.m3u8', '#EXTM3U\n#EXT-X-TARGETDURATION:2\n', { contentType: 'application/vnd.apple.mpegurl' });
  return test.app;
}

describe('edge HTTP semantics', () => {
  it('serves a byte range with 206 and Content-Range', async () => {
    const response = await (await app()).request(SEGMENT, { headers: { range: 'bytes=100-199' } });
    expect(response.status).toBe(206);
    expect(response.headers.get('content-range')).toBe('bytes 100-199/1000');
    expect(response.headers.get('content-length')).toBe('100');
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(bytes.subarray(100, 200));
    expect(response.headers.get('cache-control')).toContain('immutable');
  });

  it('answers a range past the end with 416 and the size', async () => {
    const response = await (await app()).request(SEGMENT, { headers: { range: 'bytes=5000-' } });
    expect(response.status).toBe(416);
    expect(response.headers.get('content-range')).toBe('bytes */1000');
  });

  it('advertises ranges on whole segments', async () => {
    const response = await (await app()).request(SEGMENT);
    expect(response.status).toBe(200);
    expect(response.headers.get('accept-ranges')).toBe('bytes');
    expect(response.headers.get('content-length')).toBe('1000');
  });

  it.each([SEGMENT, '/live/colors/source/index.m3u8'])('answers If-None-Match with 304 for %s', async (path) => {
    const edge = await app();
    const first = await edge.request(path);
    const etag = first.headers.get('etag')!;
    const again = await edge.request(path, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(again.headers.get('etag')).toBe(etag);
    expect(again.headers.get('cache-control')).toBe(first.headers.get('cache-control'));
    expect(await again.text()).toBe('');
    expect((await edge.request(path, { headers: { 'if-none-match': '"other"' } })).status).toBe(200);
  });

  it('answers HEAD with the headers and no body', async () => {
    const response = await (await app()).request(SEGMENT, { method: 'HEAD' });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-length')).toBe('1000');
    expect(response.headers.get('content-type')).toBe('video/mp4');
    expect(await response.text()).toBe('');
  });
});
