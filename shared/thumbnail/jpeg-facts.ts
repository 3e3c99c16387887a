/**
 * The few facts the edge needs of a stored thumbnail, read from its JPEG markers without decoding
 * it: picture size (the SOF segment) and when the sidecar captured it (a COM segment the sidecar
 * writes, so the picture carries its own age and no second object has to agree with it).
 */

const SOI = 0xd8;
const SOS = 0xda;
const COM = 0xfe;
const CAPTURED_PREFIX = 'captured-at=';

export interface JpegFacts {
  width: number;
  height: number;
  /** Epoch milliseconds; undefined when the picture carries no capture time. */
  capturedAt: number | undefined;
}

/** The JPEG with a comment segment saying when it was captured, right after its start marker. */
export function withCaptureTime(jpeg: Uint8Array, capturedAt: number): Uint8Array {
  if (jpeg.length < 2 || jpeg[0] !== 0xff || jpeg[1] !== SOI) throw new Error('not a JPEG (no start-of-image marker)');
  const text = new TextEncoder().encode(`${CAPTURED_PREFIX}${Math.round(capturedAt)}`);
  const out = new Uint8Array(jpeg.length + 4 + text.length);
  out.set([0xff, SOI, 0xff, COM, ((text.length + 2) >> 8) & 0xff, (text.length + 2) & 0xff], 0);
  out.set(text, 6);
  out.set(jpeg.subarray(2), 6 + text.length);
  return out;
}

/** Size and capture time from the markers before the image data; undefined when it is not a JPEG with a frame header. */
export function readJpegFacts(jpeg: Uint8Array): JpegFacts | undefined {
  if (jpeg.length < 4 || jpeg[0] !== 0xff || jpeg[1] !== SOI) return undefined;
  let capturedAt: number | undefined;
  let offset = 2;
  while (offset + 4 <= jpeg.length) {
    if (jpeg[offset] !== 0xff) return undefined;
    const marker = jpeg[offset + 1]!;
    // Fill bytes before a marker.
    if (marker === 0xff) {
      offset += 1;
      continue;
    }
    if (marker === SOS) return undefined;
    const length = (jpeg[offset + 2]! << 8) | jpeg[offset + 3]!;
    if (length < 2 || offset + 2 + length > jpeg.length) return undefined;
    const body = jpeg.subarray(offset + 4, offset + 2 + length);
    if (marker === COM) {
      const text = new TextDecoder().decode(body);
      if (text.startsWith(CAPTURED_PREFIX)) {
        const value = Number(text.slice(CAPTURED_PREFIX.length));
        if (Number.isSafeInteger(value)) capturedAt = value;
      }
    } else if (isFrameHeader(marker) && body.length >= 5) {
      const height = (body[1]! << 8) | body[2]!;
      const width = (body[3]! << 8) | body[4]!;
      return width > 0 && height > 0 ? { width, height, capturedAt } : undefined;
    }
    offset += 2 + length;
  }
  return undefined;
}

/** SOF0..SOF15, without DHT (C4), JPG (C8) and DAC (CC), which share the range. */
function isFrameHeader(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}
