import { describe, expect, it } from 'vitest';
import { readJpegFacts, withCaptureTime } from '../../../shared/thumbnail/jpeg-facts.ts';
import { jpegHeader } from '../../helpers/jpeg-header.ts';


describe('JPEG facts', () => {
  it('reads the picture size from the frame header', () => {
    expect(readJpegFacts(jpegHeader(1280, 720))).toEqual({ width: 1280, height: 720, capturedAt: undefined });
    expect(readJpegFacts(jpegHeader(320, 180, 0xc2))).toEqual({ width: 320, height: 180, capturedAt: undefined });
  });

  it('carries the capture time in a comment and keeps the picture as it was', () => {
    const original = jpegHeader(640, 360);
    const marked = withCaptureTime(original, 1_765_000_000_123);
    expect(readJpegFacts(marked)).toEqual({ width: 640, height: 360, capturedAt: 1_765_000_000_123 });
    // Everything after the start marker is the original's.
    expect([...marked.subarray(marked.length - (original.length - 2))]).toEqual([...original.subarray(2)]);
  });

  it.each([
    { name: 'empty', bytes: new Uint8Array(0) },
    { name: 'a PNG', bytes: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
    { name: 'cut inside a segment', bytes: jpegHeader(1280, 720).subarray(0, 20) },
    { name: 'image data before a frame header', bytes: new Uint8Array([0xff, 0xd8, 0xff, 0xda, 0x00, 0x02, 0xff, 0xd9]) },
  ])('reads nothing from $name', ({ bytes }) => {
    expect(readJpegFacts(bytes)).toBeUndefined();
  });

  it('refuses to mark what is not a JPEG', () => {
    expect(() => withCaptureTime(new Uint8Array([1, 2, 3]), 1)).toThrow(/not a JPEG/);
  });
});
