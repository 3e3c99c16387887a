import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EdgeObjectStore, EdgeWriteError } from '../../../ingest/upload/edge-object-store.ts';
import { RetryingObjectStore } from '../../../ingest/upload/retrying-object-store.ts';

/** An HTTP server on loopback that answers the first `failures` writes with `status`, then 201. */
async function flakyEdge(failures: number, status: number) {
  const received: string[] = [];
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      received.push(`${request.method} ${request.url} ${request.headers.authorization}`);
      const failing = received.length <= failures;
      response.writeHead(failing ? status : 201, { 'content-type': 'application/json' });
      response.end(JSON.stringify(failing ? { error: `failing with ${status}` } : { stored: true }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, received, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('uploads through the edge write API, with retries', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it.each([
    { name: 'retries a server error until it succeeds', failures: 2, status: 503, expectedCalls: 3, stored: true },
    { name: 'gives up after the last attempt', failures: 10, status: 500, expectedCalls: 4, stored: false },
    { name: 'does not retry a refusal (wrong secret)', failures: 10, status: 403, expectedCalls: 1, stored: false },
    { name: 'retries rate limiting', failures: 1, status: 429, expectedCalls: 2, stored: true },
  ])('$name', async ({ failures, status, expectedCalls, stored }) => {
    const edge = await flakyEdge(failures, status);
    server = edge.server;
    const retries: number[] = [];
    const store = new RetryingObjectStore(new EdgeObjectStore({ baseUrl: edge.url, secret: 's3cret', timeoutMs: 5000 }), {
      attempts: 4,
      initialDelayMs: 1,
      onRetry: (_, attempt) => retries.push(attempt),
    });
    const result = store.put('streams/x/index.m3u8', '#EXTM3U\n', { contentType: 'application/vnd.apple.mpegurl' });
    if (stored) await expect(result).resolves.toBeUndefined();
    else await expect(result).rejects.toThrow(EdgeWriteError);
    expect(edge.received).toHaveLength(expectedCalls);
    expect(edge.received[0]).toBe('PUT /_ingest/objects/streams/x/index.m3u8 Bearer s3cret');
    expect(retries).toHaveLength(expectedCalls - 1);
  });
});
