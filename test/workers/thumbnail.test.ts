/** `/live/ID/thumbnail.jpg` inside the Workers runtime (workerd, R2, the Cache API): the route the pages' images and posters load. */
import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import { R2ObjectStore } from '../../edge/storage/r2-object-store.ts';
import { createWorkerApp, type Env } from '../../edge/worker.ts';
import { withCaptureTime } from '../../shared/thumbnail/jpeg-facts.ts';
import { jpegHeader } from '../helpers/jpeg-header.ts';

const bindings = env as unknown as Env;

describe('thumbnails in the Workers runtime', () => {
  it('serves the stored width a ?width= asks for, with its age as max-age, and refuses a bad one', async () => {
    const store = new R2ObjectStore(bindings.BUCKET);
    const status = { playbackId: 'pictures', state: 'live', startedAt: 0, updatedAt: 0, targetDuration: 2, restarts: 0, renditions: [], playback: 'public' };
    await store.put('streams/pictures/status.json', JSON.stringify(status), { contentType: 'application/json' });
    const capturedAt = Date.now() - 4_000;
    const small = withCaptureTime(jpegHeader(320, 180), capturedAt);
    await store.put('streams/pictures/thumbnail-320.jpg', small, { contentType: 'image/jpeg' });
    await store.put('streams/pictures/thumbnail.jpg', withCaptureTime(jpegHeader(1280, 720), capturedAt), { contentType: 'image/jpeg' });
    const app = createWorkerApp({ ...bindings, INGEST_SECRET: 'secret' }, { store });

    const response = await app.request('/live/pictures/thumbnail.jpg?width=200');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/jpeg');
    expect(response.headers.get('cache-control')).toMatch(/^public, max-age=[5-6]$/);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(small);

    const bad = await app.request('/live/pictures/thumbnail.jpg?height=0');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: '"height" must be a whole number from 16 to 1080' });
  });

  it('takes WebPs through the write API (image/webp only) and serves the stored width as .webp', async () => {
    const store = new R2ObjectStore(bindings.BUCKET);
    const status = { playbackId: 'webps', state: 'live', startedAt: 0, updatedAt: 0, targetDuration: 2, restarts: 0, renditions: [], playback: 'public' };
    await store.put('streams/webps/status.json', JSON.stringify(status), { contentType: 'application/json' });
    await store.put('streams/webps/thumbnail.jpg', withCaptureTime(jpegHeader(1280, 720), Date.now()), { contentType: 'image/jpeg' });
    const app = createWorkerApp({ ...bindings, INGEST_SECRET: 'secret' }, { store });
    const upload = (key: string, contentType: string, body: Uint8Array) =>
      app.request(`/_ingest/objects/streams/webps/${key}`, { method: 'PUT', headers: { authorization: 'Bearer secret', 'content-type': contentType }, body });
    const small = new TextEncoder().encode('RIFF\0\0\0\0WEBP 320');
    expect((await upload('thumbnail-320.webp', 'image/webp', small)).status).toBeLessThan(300);
    expect((await upload('thumbnail.webp', 'image/webp', new TextEncoder().encode('RIFF\0\0\0\0WEBP full'))).status).toBeLessThan(300);
    expect((await upload('thumbnail.webp', 'text/html', small)).status).toBe(415);

    const response = await app.request('/live/webps/thumbnail.webp?width=200');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('image/webp');
    expect(response.headers.get('cache-control')).toMatch(/^public, max-age=(9|10)$/);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(small);
  });
});
