/**
 * A request body read whole, but never more than a limit: bytes are counted as they arrive and
 * the stream is cancelled at the first chunk past the limit, so a body without Content-Length
 * (chunked) costs at most the limit in memory, in every runtime. (`arrayBuffer()` then a size
 * check held a 200 MB upload whole before refusing it.)
 */

/** Answered as a 413 by the caller. */
export class BodyTooLarge extends Error {
  readonly limit: number;

  constructor(limit: number) {
    super(`body larger than ${limit} bytes`);
    this.limit = limit;
  }
}

export async function readBodyWithLimit(body: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  if (!body) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      // Stops the upload (Workers and Deno end the body; Node's adapter drains or closes the socket).
      await reader.cancel(new BodyTooLarge(limit)).catch(() => undefined);
      throw new BodyTooLarge(limit);
    }
    chunks.push(value);
  }
  const whole = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    whole.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return whole;
}
