import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { GaveUp, retryUntilStored } from '../../../ingest/upload/backoff.ts';
import { EdgeObjectStore, EdgeWriteError } from '../../../ingest/upload/edge-object-store.ts';
import { writeScope } from '../../../shared/write-api.ts';

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

describe('uploads through the edge write API, retried until stored', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it.each([
    { name: 'retries server errors until the write succeeds', failures: 5, status: 503, calls: 6, outcome: 'stored' },
    { name: 'retries rate limiting', failures: 1, status: 429, calls: 2, outcome: 'stored' },
    { name: 'does not retry a refusal (wrong secret)', failures: 10, status: 403, calls: 1, outcome: EdgeWriteError },
    { name: 'stops once the object is no longer wanted', failures: 100, status: 500, calls: 3, outcome: GaveUp },
  ])('$name', async ({ failures, status, calls, outcome }) => {
    const edge = await flakyEdge(failures, status);
    server = edge.server;
    const store = new EdgeObjectStore({ baseUrl: edge.url, secret: 's3cret', timeoutMs: 5000 });
    const retries: number[] = [];
    const attempt = retryUntilStored(
      () => store.put('streams/x/index.m3u8', '#EXTM3U\n', { contentType: 'application/vnd.apple.mpegurl' }),
      { initialDelayMs: 1, maxDelayMs: 4, onRetry: (tries) => retries.push(tries) },
      () => edge.received.length < calls,
    );
    if (outcome === 'stored') await expect(attempt).resolves.toBeUndefined();
    else await expect(attempt).rejects.toThrow(outcome);
    expect(edge.received).toHaveLength(calls);
    // The stream's write token (one that verifies for that stream), never the secret itself.
    const [request, bearer] = edge.received[0]!.split(' Bearer ');
    expect(request).toBe('PUT /_ingest/objects/streams/x/index.m3u8');
    expect(await writeScope('s3cret', bearer!)).toBe('x');
    expect(edge.received.join('\n')).not.toContain('s3cret');
  });
});
