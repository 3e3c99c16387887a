/**
 * Upload bodies on Node read straight from the request's stream (write-api-body.ts), through a
 * real @hono/node-server: whole and byte-exact, empty, and cut at the limit with nothing more held.
 */
import { createHash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BodyTooLarge } from '../../../edge/http/limited-body.ts';
import { readUploadBody } from '../../../edge/routes/write-api-body.ts';

const LIMIT = 4 * 1024 * 1024;
let server: ServerType;
let origin: string;

beforeAll(async () => {
  const app = new Hono();
  app.put('/upload', async (c) => {
    try {
      const body = await readUploadBody(c, LIMIT);
      return c.json({ bytes: body.byteLength, sha256: createHash('sha256').update(body).digest('hex') });
    } catch (error) {
      if (error instanceof BodyTooLarge) return c.json({ error: 'too large' }, 413);
      throw error;
    }
  });
  await new Promise<void>((resolve) => {
    server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve());
  });
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('upload bodies on Node', () => {
  it('reads a body of many chunks whole and byte-exact', async () => {
    const body = Uint8Array.from({ length: 3 * 1024 * 1024 + 17 }, (_, i) => (i * 31 + (i >> 11)) % 256);
    const response = await fetch(`${origin}/upload`, { method: 'PUT', body });
    expect(await response.json()).toEqual({ bytes: body.byteLength, sha256: createHash('sha256').update(body).digest('hex') });
  });

  it('reads an empty body', async () => {
    const response = await fetch(`${origin}/upload`, { method: 'PUT', body: '' });
    expect(await response.json()).toMatchObject({ bytes: 0 });
  });

  it('answers 413 for a chunked body past the limit, having read little more than the limit', async () => {
    let sent = 0;
    const chunk = new Uint8Array(256 * 1024);
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 10 * LIMIT) return controller.close();
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const init: RequestInit & { duplex: 'half' } = { method: 'PUT', body, duplex: 'half' };
    const response = await fetch(`${origin}/upload`, init);
    expect(response.status).toBe(413);
    await response.body?.cancel();
    // Socket buffers on loopback hold a few MiB beyond what was read.
    expect(sent).toBeLessThan(LIMIT + 24 * 1024 * 1024);
  });
});
