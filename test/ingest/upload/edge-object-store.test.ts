import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { EdgeObjectStore } from '../../../ingest/upload/edge-object-store.ts';
import { checkWriteCredential, WRITE_TOKEN_TTL_SECONDS, writeTokenExpiry } from '../../../shared/write-api.ts';

/** An HTTP server on loopback that stores nothing and records each request's bearer token. */
async function recordingEdge() {
  const bearers: string[] = [];
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      bearers.push(request.headers.authorization!.slice('Bearer '.length));
      response.writeHead(201, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, bearers, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const SECRET = 'sidecar-secret-0123456789';
const T0 = Date.parse('2026-11-24T12:00:00Z');
const MINUTE = 60_000;

describe('the sidecar\'s write tokens (EdgeObjectStore)', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  it('sends one token per stream and mints the next before it expires, each valid when sent', async () => {
    const edge = await recordingEdge();
    server = edge.server;
    let now = T0;
    const store = new EdgeObjectStore({ baseUrl: edge.url, secret: SECRET, timeoutMs: 5000, now: () => now });
    // Minutes after T0, the stream written, and which token the write carries: a name seen before
    // means the same token again, a new name a newly minted one.
    const steps = [
      { at: 0, stream: 'colors', token: 'first' },
      { at: 0, stream: 'other', token: 'other' },
      { at: 49, stream: 'colors', token: 'first' },
      { at: 50, stream: 'colors', token: 'renewed' },
      { at: 100, stream: 'colors', token: 'renewed again' },
    ];
    const named = new Map<string, string>();
    for (const step of steps) {
      now = T0 + step.at * MINUTE;
      await store.put(`streams/${step.stream}/index.m3u8`, '#EXTM3U\n', { contentType: 'application/vnd.apple.mpegurl' });
      const bearer = edge.bearers.at(-1)!;
      expect(await checkWriteCredential(SECRET, bearer, now), `${step.token} at ${step.at} min`).toEqual({ ok: true, scope: step.stream, how: 'token', expiresAt: writeTokenExpiry(bearer) });
      // Ten minutes of life left at least: a write retried for a while still carries a good token.
      expect(writeTokenExpiry(bearer)! * 1000 - now).toBeGreaterThanOrEqual(10 * MINUTE);
      if (named.has(step.token)) expect(bearer, step.token).toBe(named.get(step.token));
      else {
        expect([...named.values()], step.token).not.toContain(bearer);
        named.set(step.token, bearer);
      }
    }
    expect(writeTokenExpiry(named.get('renewed')!)).toBe((T0 + 50 * MINUTE) / 1000 + WRITE_TOKEN_TTL_SECONDS);
    expect(edge.bearers.join('\n')).not.toContain(SECRET);
  });
});
