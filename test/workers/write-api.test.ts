/**
 * The write API inside the Workers runtime (workerd, R2): what only the runtime can show. Under
 * Workers there is no start-up to refuse, so the development secret is refused per request unless
 * it comes to a loopback host from a loopback client; and a chunked upload is cut at the limit.
 */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { createWorkerApp, type Env } from '../../edge/worker.ts';
import { DEVELOPMENT_INGEST_SECRET, streamWriteToken, WRITE_API_MAX_BYTES } from '../../shared/write-api.ts';

const bindings = env as unknown as Env;
const bucket = bindings.BUCKET;
const PLAYLIST = 'application/vnd.apple.mpegurl';

describe('the write API in workerd', () => {
  it.each([
    // What wrangler dev sends (checked with wrangler 4): the URL host from the Host header, cf-connecting-ip the peer.
    { name: 'the secret via wrangler dev on loopback', stream: 'dev1', origin: 'http://127.0.0.1:8080', headers: { 'cf-connecting-ip': '127.0.0.1' }, token: false, status: 201 },
    { name: 'a token from it via wrangler dev on localhost', stream: 'dev2', origin: 'http://localhost:8080', headers: { 'cf-connecting-ip': '::1' }, token: true, status: 201 },
    // What Cloudflare sends: a route, custom domain or workers.dev host, and the real client.
    { name: 'the secret to a workers.dev host', stream: 'dev3', origin: 'https://edge-live.example.workers.dev', headers: { 'cf-connecting-ip': '203.0.113.9' }, token: false, status: 403 },
    { name: 'a token from it to a custom domain', stream: 'dev4', origin: 'https://live.example.com', headers: { 'cf-connecting-ip': '2001:db8::9' }, token: true, status: 403 },
    { name: 'the secret to a loopback host from a remote client', stream: 'dev5', origin: 'http://127.0.0.1:8080', headers: { 'cf-connecting-ip': '203.0.113.9' }, token: false, status: 403 },
  ])('with the development secret: a write by $name answers $status', async ({ stream, origin, headers, token, status }) => {
    const app = createWorkerApp({ ...bindings, INGEST_SECRET: DEVELOPMENT_INGEST_SECRET });
    const bearer = token ? await streamWriteToken(DEVELOPMENT_INGEST_SECRET, stream) : DEVELOPMENT_INGEST_SECRET;
    const key = `streams/${stream}/index.m3u8`;
    const response = await app.request(`${origin}/_ingest/objects/${key}`, { method: 'PUT', headers: { authorization: `Bearer ${bearer}`, 'content-type': PLAYLIST, ...headers }, body: '#EXTM3U\n' });
    expect(response.status).toBe(status);
    if (status === 403) {
      expect(await response.json()).toEqual({ error: expect.stringContaining('set INGEST_SECRET on the edge and the sidecar to the same random value') });
      expect(await bucket.head(key)).toBeNull();
    } else {
      expect(await bucket.head(key)).not.toBeNull();
    }
  });

  it('stops reading a chunked upload at the limit: 413, the body cancelled, nothing in R2', async () => {
    const secret = 'workers-write-secret-0123456789';
    const app = createWorkerApp({ ...bindings, INGEST_SECRET: secret });
    const chunk = new Uint8Array(1024 * 1024);
    let pulled = 0;
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (pulled >= 3 * WRITE_API_MAX_BYTES) return controller.close();
        pulled += chunk.byteLength;
        controller.enqueue(chunk);
      },
      cancel() {
        cancelled = true;
      },
    });
    const key = 'streams/big/source/abcdefgh1-0.m4s';
    const response = await app.request(`/_ingest/objects/${key}`, { method: 'PUT', headers: { authorization: `Bearer ${secret}`, 'content-type': 'video/mp4' }, body });
    expect(response.status).toBe(413);
    expect(await response.json()).toEqual({ error: expect.stringContaining(`limited to ${WRITE_API_MAX_BYTES} bytes`) });
    expect(cancelled).toBe(true);
    expect(pulled).toBeLessThanOrEqual(WRITE_API_MAX_BYTES + 2 * chunk.byteLength);
    expect(await bucket.head(key)).toBeNull();
  });
});
