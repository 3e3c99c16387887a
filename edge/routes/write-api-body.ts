/**
 * An upload's body, read whole but never past a limit (edge/http/limited-body.ts says why). On
 * Node it is read straight from the request's own stream, which @hono/node-server hands over in
 * the bindings (`c.env.incoming`): asking the request for `body` there builds a fetch Request
 * with two web streams around Node's stream, ~4 % of a busy Node edge's CPU for the segment and
 * playlist uploads of 10 live streams. Elsewhere (Workers, Deno) the request's web stream.
 */
import type { Context } from 'hono';
import { BodyTooLarge, readBodyWithLimit } from '../http/limited-body.ts';

/** What is used here of Node's IncomingMessage. */
interface NodeRequestStream {
  readonly readableDidRead: boolean;
  readonly readableEnded: boolean;
  on(event: 'data', listener: (chunk: Uint8Array) => void): unknown;
  on(event: 'end' | 'aborted', listener: () => void): unknown;
  on(event: 'error', listener: (error: Error) => void): unknown;
  off(event: string, listener: (...args: never[]) => void): unknown;
  pause(): unknown;
}

/** @hono/node-server's request stream, when this request came through it (and nothing read its body yet). */
function nodeRequestStream(c: Context): NodeRequestStream | undefined {
  const env: unknown = c.env;
  if (typeof env !== 'object' || env === null || !('incoming' in env) || !('outgoing' in env)) return undefined;
  const incoming = (env as { incoming: unknown }).incoming;
  if (typeof incoming !== 'object' || incoming === null) return undefined;
  const stream = incoming as Partial<NodeRequestStream>;
  if (typeof stream.on !== 'function' || typeof stream.off !== 'function' || typeof stream.pause !== 'function' || stream.readableDidRead !== false) return undefined;
  return stream as NodeRequestStream;
}

/** The request's body, at most `limit` bytes, else BodyTooLarge (nothing more is read). */
export function readUploadBody(c: Context, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  const stream = nodeRequestStream(c);
  return stream ? readNodeBody(stream, limit) : readBodyWithLimit(c.req.raw.body, limit);
}

function readNodeBody(stream: NodeRequestStream, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  if (stream.readableEnded) return Promise.resolve(new Uint8Array(0));
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    let total = 0;
    const detach = () => {
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('aborted', onAborted);
      stream.off('error', onError);
    };
    const onData = (chunk: Uint8Array) => {
      total += chunk.byteLength;
      if (total > limit) {
        // Nothing more is read; the server adapter closes or drains the rest once the 413 is sent.
        detach();
        stream.pause();
        chunks.length = 0;
        reject(new BodyTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      detach();
      // Not zero-filled first (every byte is copied over); a small body may share Node's pool.
      resolve(Buffer.concat(chunks, total) as Uint8Array<ArrayBuffer>);
    };
    const onAborted = () => {
      detach();
      reject(new Error('the upload was cut off before its end'));
    };
    const onError = (error: Error) => {
      detach();
      reject(error);
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('aborted', onAborted);
    stream.on('error', onError);
  });
}
