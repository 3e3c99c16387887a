import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KeepAliveClient } from '../../../ingest/upload/keep-alive-client.ts';
import { EdgeObjectStore } from '../../../ingest/upload/edge-object-store.ts';
import { newSessionId } from '../../../ingest/pipeline/session-id.ts';
import { streamObjectKey } from '../../../shared/storage/layout.ts';
import { WRITE_API_PREFIX } from '../../../shared/write-api.ts';

interface Received {
  method: string;
  url: string;
  body: Buffer;
  headers: IncomingMessage['headers'];
  socket: Socket;
}

/** A loopback HTTP server that answers with `answer` and records every request with its connection. */
async function edgeServer(answer: (request: Received, response: ServerResponse) => void) {
  const received: Received[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const entry = { method: request.method!, url: request.url!, body: Buffer.concat(chunks), headers: request.headers, socket: request.socket };
      received.push(entry);
      answer(entry, response);
    });
  });
  server.on('connection', (socket: Socket) => sockets.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, received, sockets, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const SECRET = 'sidecar-secret-0123456789';

describe('uploads over kept-alive connections (KeepAliveClient, EdgeObjectStore)', () => {
  let server: Server | undefined;
  let client: KeepAliveClient | undefined;
  let store: EdgeObjectStore | undefined;
  afterEach(() => {
    client?.close();
    store?.close();
    server?.closeAllConnections();
    server?.close();
  });

  it('sends one stream\'s writes one after another over one connection, bodies byte for byte, with their length', async () => {
    const edge = await edgeServer((_request, response) => response.writeHead(201).end());
    server = edge.server;
    store = new EdgeObjectStore({ baseUrl: edge.url, secret: SECRET, timeoutMs: 5000 });
    const session = newSessionId();
    const initKey = streamObjectKey('colors', { kind: 'init', rendition: 'source', session });
    const partKey = streamObjectKey('colors', { kind: 'part', rendition: 'source', session, time: 0, index: 1 });
    const part = Buffer.from(Array.from({ length: 70_000 }, (_, index) => index % 251));
    await store.put(initKey, part, { contentType: 'video/mp4' });
    await store.put('streams/colors/index.m3u8', '#EXTM3U\n# ünïcode\n', { contentType: 'application/vnd.apple.mpegurl' });
    await store.putPart(partKey, part.subarray(1000, 2000), 'video/mp4', { msn: 0, duration: 0.333, independent: true, next: 'part-2.m4s', partTarget: 0.334 });
    expect(edge.received.map((request) => [request.method, request.url])).toEqual([
      ['PUT', `${WRITE_API_PREFIX}${initKey}`],
      ['PUT', `${WRITE_API_PREFIX}streams/colors/index.m3u8`],
      ['PUT', `${WRITE_API_PREFIX}${partKey}`],
    ]);
    expect(edge.received[0]!.body.equals(part)).toBe(true);
    expect(edge.received[1]!.body.toString('utf8')).toBe('#EXTM3U\n# ünïcode\n');
    expect(edge.received[1]!.headers['content-length']).toBe(String(Buffer.byteLength('#EXTM3U\n# ünïcode\n')));
    expect(edge.received[2]!.body.equals(part.subarray(1000, 2000))).toBe(true);
    expect(edge.received[2]!.headers).toMatchObject({ 'x-part-msn': '0', 'content-type': 'video/mp4' });
    expect(edge.sockets.size).toBe(1);
  });

  it('says the status and the first bytes of the edge\'s answer when it refuses, and does not retry a refusal itself', async () => {
    const edge = await edgeServer((_request, response) => response.writeHead(403, { 'content-type': 'text/plain' }).end(`bad token ${'x'.repeat(500)}`));
    server = edge.server;
    store = new EdgeObjectStore({ baseUrl: edge.url, secret: SECRET, timeoutMs: 5000 });
    const error = await store.put('streams/colors/index.m3u8', '#EXTM3U\n', { contentType: 'application/vnd.apple.mpegurl' }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'EdgeWriteError', status: 403, retryable: false });
    expect((error as Error).message).toMatch(/^PUT streams\/colors\/index\.m3u8: 403 bad token x+$/);
    expect((error as Error).message.length).toBeLessThan(260);
    expect(edge.received).toHaveLength(1);
  });

  it('reads an object back whole, with its metadata; a missing one is null', async () => {
    const document = JSON.stringify({ segments: [1, 2, 3] });
    const edge = await edgeServer((request, response) => {
      if (request.url.endsWith('manifest.mpd')) response.writeHead(404).end('not here');
      else response.writeHead(200, { 'content-type': 'application/json', etag: '"abc"', 'content-length': Buffer.byteLength(document) }).end(request.method === 'HEAD' ? undefined : document);
    });
    server = edge.server;
    store = new EdgeObjectStore({ baseUrl: edge.url, secret: SECRET, timeoutMs: 5000 });
    const stored = await store.get('streams/colors/status.json');
    expect(stored).toMatchObject({ size: document.length, etag: 'abc', contentType: 'application/json' });
    expect(await new Response(stored!.body).text()).toBe(document);
    expect(await store.head('streams/colors/status.json')).toEqual({ size: document.length, etag: 'abc', contentType: 'application/json' });
    expect(await store.get('streams/colors/manifest.mpd')).toBeNull();
    expect(await store.head('streams/colors/manifest.mpd')).toBeNull();
    await store.delete('streams/colors/manifest.mpd');
  });

  it('gives up on an edge that does not answer within the timeout (a retryable error, the connection closed)', async () => {
    const edge = await edgeServer(() => {});
    server = edge.server;
    client = new KeepAliveClient();
    const started = performance.now();
    const error = await client
      .request({ method: 'PUT', url: new URL(`${WRITE_API_PREFIX}streams/colors/index.m3u8`, edge.url), headers: {}, body: 'x', timeoutMs: 300, readBody: () => false })
      .catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'TimeoutError' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect([...edge.sockets].every((socket) => socket.destroyed)).toBe(true);
  });

  it('sends a request again on a fresh connection when the kept-alive one was closed by the edge as it was reused', async () => {
    let closeNext = false;
    const edge = await edgeServer((request, response) => {
      response.writeHead(201).end();
      void request;
    });
    server = edge.server;
    // The edge drops a kept-alive connection the moment the next request starts on it (its
    // keep-alive timeout racing our write), without answering.
    edge.server.prependListener('request', (request: IncomingMessage) => {
      if (closeNext) {
        closeNext = false;
        request.socket.destroy();
      }
    });
    client = new KeepAliveClient();
    const put = (path: string) => client!.request({ method: 'PUT', url: new URL(path, edge.url), headers: {}, body: 'bytes', timeoutMs: 2000, readBody: () => false });
    expect((await put('/a')).status).toBe(201);
    closeNext = true;
    expect((await put('/b')).status).toBe(201);
    // The edge saw /b arrive on the old connection and closed it without an answer; the request came again on a new one.
    expect(edge.received.map((request) => request.url)).toEqual(['/a', '/b', '/b']);
    expect(edge.sockets.size).toBe(2);
  });
});
