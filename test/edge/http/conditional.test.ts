import { describe, expect, it } from 'vitest';
import { ifNoneMatchHits } from '../../../edge/http/conditional.ts';

describe('ifNoneMatchHits', () => {
  it.each([
    { header: undefined, etag: '"a"', expected: false },
    { header: '"a"', etag: '"a"', expected: true },
    { header: 'W/"a"', etag: '"a"', expected: true },
    { header: '"a"', etag: 'W/"a"', expected: true },
    { header: '"x", "a"', etag: '"a"', expected: true },
    { header: '"b"', etag: '"a"', expected: false },
    { header: '*', etag: '"a"', expected: true },
  ])('If-None-Match $header vs $etag', ({ header, etag, expected }) => {
    expect(ifNoneMatchHits(header, etag)).toBe(expected);
  });
});
