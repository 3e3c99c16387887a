import { describe, expect, it } from 'vitest';
import { prefixRelativeUris } from '../../../edge/manifest/rewrite-uris.ts';

describe('prefixRelativeUris', () => {
  it.each([
    { name: 'a URI line', input: 'source/index.m3u8', expected: 'colors/source/index.m3u8' },
    { name: 'a URI attribute', input: '#EXT-X-MEDIA:TYPE=AUDIO,URI="audio/index.m3u8"', expected: '#EXT-X-MEDIA:TYPE=AUDIO,URI="colors/audio/index.m3u8"' },
    { name: 'an absolute URL (left alone)', input: 'https://cdn.example/a.m3u8', expected: 'https://cdn.example/a.m3u8' },
    { name: 'an absolute path (left alone)', input: '/live/x/index.m3u8', expected: '/live/x/index.m3u8' },
    { name: 'a tag without URI', input: '#EXT-X-STREAM-INF:BANDWIDTH=1', expected: '#EXT-X-STREAM-INF:BANDWIDTH=1' },
    { name: 'an empty line', input: '', expected: '' },
  ])('rewrites $name', ({ input, expected }) => {
    expect(prefixRelativeUris(input, 'colors/')).toBe(expected);
  });
});
