/** Parts as the packager hands them to the live channel: a list of pieces (views), of mixed sizes. */
import type { OutgoingPart } from '../../../ingest/upload/live-channel-queue.ts';
import type { PartFrame } from '../../../shared/live-channel-protocol.ts';

// A moof-sized header, an empty piece, audio-frame-sized and video-frame-sized pieces, one byte.
const PIECE_SIZES = [180, 0, 300, 5000, 1, 20_000, 250];

/** `bytes` cut into views of mixed sizes (the last one takes the rest). */
export function piecesOf(bytes: Uint8Array): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; at < bytes.byteLength; i++) {
    const size = PIECE_SIZES[i % PIECE_SIZES.length]!;
    pieces.push(bytes.subarray(at, at + size));
    at += size;
  }
  return pieces;
}

/** The part as the sidecar sends it: its bytes as pieces of mixed sizes. */
export function outgoing(frame: PartFrame): OutgoingPart {
  const { bytes, ...fields } = frame;
  return { ...fields, pieces: piecesOf(bytes), byteLength: bytes.byteLength };
}
