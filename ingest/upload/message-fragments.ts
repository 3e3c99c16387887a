/**
 * How a part's pieces (its moof and mdat header, then views of its frames' bytes) go out as
 * WebSocket fragments of one message. Pure.
 *
 * Each fragment is its own `ws` send: a frame header and a socket write (the channel corks the
 * socket around a pump's sends, so they leave in one writev). A large piece goes as it is, not
 * copied; a run of small ones (the header, audio frames of a few hundred bytes, small inter
 * frames) is joined into one fragment, since copying a few kilobytes costs less than a frame
 * header and a buffer to gather per piece. What is joined is small and short-lived; the media's
 * bulk is never copied.
 */

/** Pieces at least this long are sent as they are; shorter neighbours are joined up to about this much. */
export const MIN_FRAGMENT_BYTES = 4096;

/** `pieces` as fragments: the same bytes end to end, no empty fragment, large pieces the same objects. */
export function messageFragments(pieces: readonly Uint8Array[], minBytes = MIN_FRAGMENT_BYTES): Uint8Array[] {
  const fragments: Uint8Array[] = [];
  let run: Uint8Array[] = [];
  let runBytes = 0;
  const flush = () => {
    if (run.length === 1) fragments.push(run[0]!);
    else if (run.length > 1) fragments.push(Buffer.concat(run, runBytes));
    run = [];
    runBytes = 0;
  };
  for (const piece of pieces) {
    if (piece.byteLength === 0) continue;
    if (piece.byteLength >= minBytes) {
      flush();
      fragments.push(piece);
      continue;
    }
    run.push(piece);
    runBytes += piece.byteLength;
    if (runBytes >= minBytes) flush();
  }
  flush();
  return fragments;
}
