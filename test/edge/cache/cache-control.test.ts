import { describe, expect, it } from 'vitest';
import { cacheControlFor, edgeCopySecondsFor } from '../../../edge/cache/cache-control.ts';

describe('cacheControlFor', () => {
  it.each([
    { name: 'segments are immutable', kind: 'segment' as const, state: undefined, expected: 'public, max-age=31536000, immutable' },
    { name: 'init segments are immutable', kind: 'init' as const, state: undefined, expected: 'public, max-age=31536000, immutable' },
    { name: 'live playlist: half the target duration', kind: 'media-playlist' as const, state: { ended: false, targetDuration: 6 }, expected: 'public, max-age=3, stale-while-revalidate=3' },
    { name: 'live playlist: at least a second', kind: 'media-playlist' as const, state: { ended: false, targetDuration: 1 }, expected: 'public, max-age=1, stale-while-revalidate=1' },
    { name: 'ended playlist: longer', kind: 'media-playlist' as const, state: { ended: true, targetDuration: 2 }, expected: 'public, max-age=60' },
    { name: 'multivariant: short', kind: 'multivariant' as const, state: undefined, expected: 'public, max-age=2' },
  ])('$name', ({ kind, state, expected }) => {
    expect(cacheControlFor(kind, state)).toBe(expected);
  });
});

describe('edgeCopySecondsFor', () => {
  it.each([
    { key: 'streams/colors/source/mwux8zdq1mw4z4u-42.m4s', expected: 86_400 },
    { key: 'streams/colors/source/init-mwux8zdq1mw4z4u.mp4', expected: 86_400 },
    { key: 'streams/colors/source/index.m3u8', expected: 1 },
    { key: 'streams/colors/index.m3u8', expected: 1 },
    { key: 'streams/colors/manifest.mpd', expected: 1 },
    { key: 'streams/colors/status.json', expected: 1 },
    { key: 'not/a/layout/key', expected: 1 },
  ])('keeps $key for $expected s', ({ key, expected }) => {
    expect(edgeCopySecondsFor(key)).toBe(expected);
  });
});
