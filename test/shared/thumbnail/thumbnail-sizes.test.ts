import { describe, expect, it } from 'vitest';
import { chooseThumbnailWidth, parseThumbnailQuery, thumbnailWidthsFor } from '../../../shared/thumbnail/thumbnail-sizes.ts';

describe('thumbnail ?width= / ?height=', () => {
  it.each([
    { name: 'nothing asked', query: '', expected: { ok: true, request: {} } },
    { name: 'a width', query: 'width=320', expected: { ok: true, request: { width: 320 } } },
    { name: 'a height', query: 'height=180', expected: { ok: true, request: { height: 180 } } },
    { name: 'both', query: 'width=16&height=1080', expected: { ok: true, request: { width: 16, height: 1080 } } },
    { name: 'the widest', query: 'width=1920', expected: { ok: true, request: { width: 1920 } } },
    { name: 'other parameters left alone', query: 'token=abc&v=2&width=640', expected: { ok: true, request: { width: 640 } } },
    { name: 'a width too small', query: 'width=15', expected: { ok: false, reason: '"width" must be a whole number from 16 to 1920' } },
    { name: 'a width too large', query: 'width=1921', expected: { ok: false, reason: '"width" must be a whole number from 16 to 1920' } },
    { name: 'a height too large', query: 'height=1081', expected: { ok: false, reason: '"height" must be a whole number from 16 to 1080' } },
    { name: 'a fraction', query: 'width=320.5', expected: { ok: false, reason: '"width" must be a whole number from 16 to 1920' } },
    { name: 'a negative number', query: 'height=-20', expected: { ok: false, reason: '"height" must be a whole number from 16 to 1080' } },
    { name: 'empty', query: 'width=', expected: { ok: false, reason: '"width" must be a whole number from 16 to 1920' } },
    { name: 'a word', query: 'width=big', expected: { ok: false, reason: '"width" must be a whole number from 16 to 1920' } },
    { name: 'an exponent', query: 'width=1e3', expected: { ok: false, reason: '"width" must be a whole number from 16 to 1920' } },
    { name: 'twice', query: 'width=320&width=640', expected: { ok: false, reason: '"width" may appear once' } },
  ])('$name: ?$query', ({ query, expected }) => {
    expect(parseThumbnailQuery(new URLSearchParams(query))).toEqual(expected);
  });
});

describe('which stored picture answers a request', () => {
  const hd = { width: 1280, height: 720 };
  it.each([
    { name: 'nothing asked: full size', request: {}, full: hd, expected: undefined },
    { name: 'narrower than the smallest: the smallest', request: { width: 100 }, full: hd, expected: 320 },
    { name: 'exactly a stored width', request: { width: 320 }, full: hd, expected: 320 },
    { name: 'between two: the larger', request: { width: 321 }, full: hd, expected: 640 },
    { name: 'wider than every fixed width: full size', request: { width: 641 }, full: hd, expected: undefined },
    { name: 'wider than the source: full size (the browser scales up)', request: { width: 1920 }, full: hd, expected: undefined },
    { name: 'a height: the width at the aspect ratio', request: { height: 180 }, full: hd, expected: 320 },
    { name: 'a height just over: the next width', request: { height: 181 }, full: hd, expected: 640 },
    { name: 'width and height: big enough for both', request: { width: 200, height: 300 }, full: hd, expected: 640 },
    { name: 'a source narrower than 640: only 320 stored', request: { width: 400 }, full: { width: 480, height: 270 }, expected: undefined },
    { name: 'a 320-wide source: nothing stored beside it', request: { width: 100 }, full: { width: 320, height: 240 }, expected: undefined },
  ])('$name', ({ request, full, expected }) => {
    expect(chooseThumbnailWidth(request, full)).toBe(expected);
  });

  it('stores only widths narrower than the source', () => {
    expect(thumbnailWidthsFor(1920)).toEqual([320, 640]);
    expect(thumbnailWidthsFor(640)).toEqual([320]);
    expect(thumbnailWidthsFor(320)).toEqual([]);
  });
});
