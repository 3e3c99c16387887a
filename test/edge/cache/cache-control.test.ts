import { describe, expect, it } from 'vitest';
import { cacheControlFor } from '../../../edge/cache/cache-control.ts';

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
