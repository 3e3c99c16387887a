/**
 * HTTP requests for the sidecar's uploads over node:http(s) with a keep-alive Agent: bodies go
 * out as the Buffers they are, responses come back as Buffers. The profile of a sidecar carrying
 * 25 passthrough streams had ~30 % of its CPU in fetch (undici: Request/Response objects,
 * web-stream bodies, header guards, one AbortSignal timer per request); this does one request
 * object, one timer and the socket write.
 */
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { chunksByteLength } from '../../shared/storage/object-store.ts';

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** The body, read whole only when asked for (`readBody`); otherwise empty. */
  body: Buffer;
}

export class HttpTimeoutError extends Error {
  override name = 'TimeoutError';
}

// Error codes of a kept-alive socket the server closed as we wrote to it (its keep-alive timeout
// raced our request): the request never reached it, so sending it again on a fresh socket is safe.
const STALE_SOCKET_CODES = new Set(['ECONNRESET', 'EPIPE']);

export interface KeepAliveRequest {
  method: 'GET' | 'PUT' | 'HEAD' | 'DELETE';
  url: URL;
  headers: OutgoingHttpHeaders;
  /** Chunks (a segment's parts) are written one after the other under one Content-Length: never joined. */
  body?: Uint8Array | string | readonly Uint8Array[];
  timeoutMs: number;
  /** Read the body into `body` (GET, and errors to report); otherwise it is discarded. */
  readBody: (status: number) => boolean;
  /** The most body bytes kept (the rest is read and dropped). */
  maxBodyBytes?: number;
}

export class KeepAliveClient {
  private readonly http = new HttpAgent({ keepAlive: true, scheduling: 'lifo' });
  private readonly https = new HttpsAgent({ keepAlive: true, scheduling: 'lifo' });

  async request(options: KeepAliveRequest): Promise<HttpResponse> {
    try {
      return await this.once(options);
    } catch (error) {
      if (!(error instanceof StaleSocketError)) throw error;
      return this.once(options);
    }
  }

  /** Closes idle sockets (the sidecar stopping). */
  close(): void {
    this.http.destroy();
    this.https.destroy();
  }

  private once(options: KeepAliveRequest): Promise<HttpResponse> {
    const { url } = options;
    const secure = url.protocol === 'https:';
    const headers: OutgoingHttpHeaders = { ...options.headers };
    if (options.body !== undefined) headers['content-length'] = bodyLength(options.body);
    return new Promise<HttpResponse>((resolve, reject) => {
      let settled = false;
      const finish = (error: Error | undefined, response?: HttpResponse) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (error) reject(error);
        else resolve(response!);
      };
      const request: ClientRequest = (secure ? httpsRequest : httpRequest)(
        url,
        { method: options.method, headers, agent: secure ? this.https : this.http },
        (response) => readResponse(response, options, finish),
      );
      const timer = setTimeout(() => {
        const error = new HttpTimeoutError(`${options.method} ${url.pathname}: no answer within ${options.timeoutMs} ms`);
        finish(error);
        request.destroy(error);
      }, options.timeoutMs);
      request.on('error', (error: NodeJS.ErrnoException) => {
        const stale = request.reusedSocket && STALE_SOCKET_CODES.has(error.code ?? '');
        finish(stale ? new StaleSocketError(error.message) : error);
      });
      const body = options.body;
      if (body === undefined) request.end();
      else if (typeof body === 'string' || body instanceof Uint8Array) request.end(body);
      else {
        for (const chunk of body) request.write(chunk);
        request.end();
      }
    });
  }
}

function bodyLength(body: Uint8Array | string | readonly Uint8Array[]): number {
  if (typeof body === 'string') return Buffer.byteLength(body);
  if (body instanceof Uint8Array) return body.byteLength;
  return chunksByteLength(body);
}

class StaleSocketError extends Error {
  override name = 'StaleSocketError';
}

function readResponse(response: IncomingMessage, options: KeepAliveRequest, finish: (error: Error | undefined, response?: HttpResponse) => void): void {
  const status = response.statusCode ?? 0;
  const done = (body: Buffer) => finish(undefined, { status, headers: response.headers, body });
  response.on('close', () => {
    if (!response.complete) finish(new Error(`${options.method} ${options.url.pathname}: the connection closed before the whole answer`));
  });
  if (!options.readBody(status)) {
    response.on('end', () => done(EMPTY));
    response.on('error', (error) => finish(error));
    response.resume();
    return;
  }
  const limit = options.maxBodyBytes ?? Number.POSITIVE_INFINITY;
  const chunks: Buffer[] = [];
  let kept = 0;
  response.on('data', (chunk: Buffer) => {
    if (kept >= limit) return;
    const piece = kept + chunk.length > limit ? chunk.subarray(0, limit - kept) : chunk;
    chunks.push(piece);
    kept += piece.length;
  });
  response.on('end', () => done(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, kept)));
  response.on('error', (error) => finish(error));
}

const EMPTY = Buffer.alloc(0);
