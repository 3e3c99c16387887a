import { describe, expect, it } from 'vitest';
import {
  parseInitSegmentFile,
  parseMediaSegmentFile,
  parseStreamObjectKey,
  parseStreamRelativePath,
  streamObjectKey,
  type StreamObjectRef,
} from '../../../shared/storage/layout.ts';

describe('storage layout', () => {
  const refs: { name: string; ref: StreamObjectRef; path: string }[] = [
    { name: 'multivariant', ref: { kind: 'multivariant' }, path: 'index.m3u8' },
    { name: 'status', ref: { kind: 'status' }, path: 'status.json' },
    { name: 'DASH MPD', ref: { kind: 'mpd' }, path: 'manifest.mpd' },
    { name: 'full-size thumbnail', ref: { kind: 'thumbnail' }, path: 'thumbnail.jpg' },
    { name: '320-wide thumbnail', ref: { kind: 'thumbnail', width: 320 }, path: 'thumbnail-320.jpg' },
    { name: '640-wide thumbnail', ref: { kind: 'thumbnail', width: 640 }, path: 'thumbnail-640.jpg' },
    { name: 'full-size WebP thumbnail', ref: { kind: 'thumbnail', format: 'webp' }, path: 'thumbnail.webp' },
    { name: '320-wide WebP thumbnail', ref: { kind: 'thumbnail', width: 320, format: 'webp' }, path: 'thumbnail-320.webp' },
    { name: 'media playlist', ref: { kind: 'media-playlist', rendition: 'source' }, path: 'source/index.m3u8' },
    { name: 'init segment', ref: { kind: 'init', rendition: 'audio', session: 'mwux8zdq1mw4z4u' }, path: 'audio/init-mwux8zdq1mw4z4u.mp4' },
    {
      name: 'media segment',
      ref: { kind: 'segment', rendition: 'source', session: 'mwux8zdq1mw4z4u', time: 42 },
      path: 'source/mwux8zdq1mw4z4u-42.m4s',
    },
  ];

  it.each(refs)('round-trips the $name key', ({ ref, path }) => {
    const key = streamObjectKey('colors', ref);
    expect(key).toBe(`streams/colors/${path}`);
    expect(parseStreamObjectKey(key)).toEqual({ playbackId: 'colors', ref });
    expect(parseStreamRelativePath(path)).toEqual(ref);
  });

  const refused = [
    { name: 'parent directory', key: 'streams/colors/../other/index.m3u8' },
    { name: 'dot segment as the id', key: 'streams/../index.m3u8' },
    { name: 'absolute path', key: '/streams/colors/index.m3u8' },
    { name: 'encoded separator', key: 'streams/colors/source%2Findex.m3u8' },
    { name: 'encoded dot', key: 'streams/colors/%2e%2e/index.m3u8' },
    { name: 'control character', key: 'streams/colors/source/index.m3u8\n' },
    { name: 'backslash', key: 'streams/colors\\source/index.m3u8' },
    { name: 'outside the streams prefix', key: 'other/colors/index.m3u8' },
    { name: 'unknown file', key: 'streams/colors/source/evil.js' },
    { name: 'nested too deep', key: 'streams/colors/source/x/index.m3u8' },
    { name: 'empty stream id', key: 'streams//index.m3u8' },
    { name: 'upper-case rendition', key: 'streams/colors/Source/index.m3u8' },
    { name: 'session too short', key: 'streams/colors/source/abc-1.m4s' },
    { name: 'thumbnail of a width not stored', key: 'streams/colors/thumbnail-321.jpg' },
    { name: 'thumbnail width with a leading zero', key: 'streams/colors/thumbnail-0320.jpg' },
    { name: 'thumbnail inside a rendition', key: 'streams/colors/source/thumbnail.jpg' },
    { name: 'thumbnail of another type', key: 'streams/colors/thumbnail.png' },
    { name: 'WebP thumbnail of a width not stored', key: 'streams/colors/thumbnail-321.webp' },
    { name: 'negative time', key: 'streams/colors/source/mwux8zdq1mw4z4u--1.m4s' },
  ];

  it.each(refused)('refuses a key with $name', ({ key }) => {
    expect(parseStreamObjectKey(key)).toBeNull();
  });

  it('refuses to build a key for an invalid stream id', () => {
    expect(() => streamObjectKey('../x', { kind: 'multivariant' })).toThrow(/invalid stream id/);
  });

  it.each([
    { file: 'mwux8zdq1mw4z4u-42.m4s', expected: { session: 'mwux8zdq1mw4z4u', time: 42 } },
    { file: 'mwux8zdq1mw4z4u-42.p0.m4s', expected: null },
    { file: 'init-mwux8zdq1mw4z4u.mp4', expected: null },
    { file: 'abc-1.m4s', expected: null },
    { file: 'mwux8zdq1mw4z4u-x.m4s', expected: null },
  ])('reads a media segment name: $file', ({ file, expected }) => {
    expect(parseMediaSegmentFile(file)).toEqual(expected);
  });

  it.each([
    { file: 'init-mwux8zdq1mw4z4u.mp4', expected: 'mwux8zdq1mw4z4u' },
    { file: 'init-abc.mp4', expected: null },
    { file: 'mwux8zdq1mw4z4u-42.m4s', expected: null },
  ])('reads an init segment name: $file', ({ file, expected }) => {
    expect(parseInitSegmentFile(file)).toBe(expected);
  });
});
