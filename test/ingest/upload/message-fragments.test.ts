/** A part's pieces as WebSocket fragments: the same bytes, large pieces sent as they are, small neighbours joined. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { messageFragments } from '../../../ingest/upload/message-fragments.ts';

const joined = (pieces: readonly Uint8Array[]) => Buffer.concat(pieces);

describe('messageFragments', () => {
  it('sends a large piece as the same object and joins the small ones around it', () => {
    const header = new Uint8Array(200).fill(1);
    const audio = [new Uint8Array(300).fill(2), new Uint8Array(0), new Uint8Array(310).fill(3)];
    const keyframe = new Uint8Array(50_000).fill(4);
    const fragments = messageFragments([header, ...audio, keyframe, new Uint8Array(10).fill(5)], 4096);
    expect(fragments).toHaveLength(3);
    expect(fragments[1]).toBe(keyframe);
    expect(fragments[0]).toEqual(joined([header, ...audio]));
    expect(fragments[2]).toEqual(new Uint8Array(10).fill(5));
  });

  it('keeps every byte in order, with no empty fragment, whatever the pieces', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 30 }), fc.integer({ min: 1, max: 600 }), (pieces, minBytes) => {
        const fragments = messageFragments(pieces, minBytes);
        expect(joined(fragments)).toEqual(joined(pieces));
        for (const fragment of fragments) expect(fragment.byteLength).toBeGreaterThan(0);
        // A piece of at least minBytes is never copied.
        for (const piece of pieces) if (piece.byteLength >= minBytes) expect(fragments).toContain(piece);
      }),
    );
  });
});
