import { describe, expect, it } from 'vitest';
import { edgeAppForTest } from '../../helpers/edge-app.ts';

describe('front page', () => {
  it('lists public streams that are live or reconnecting, newest first, with links; not ended or signed ones', async () => {
    const { app, store } = edgeAppForTest();
    const status = (streamId: string, state: string, startedAt: number, playback = 'public') =>
      store.put(
        `streams/${streamId}/status.json`,
        JSON.stringify({ streamId, state, startedAt, updatedAt: startedAt, targetDuration: 2, reconnects: 0, playback, renditions: [{ name: 'source', kind: 'video', codec: 'avc1.640028', width: 1920, height: 1080, bandwidth: 5e6 }] }),
        { contentType: 'application/json' },
      );
    await status('older', 'live', Date.now() - 600_000);
    await status('newer', 'reconnecting', Date.now() - 60_000);
    await status('over', 'ended', Date.now() - 60_000);
    await status('vip', 'live', Date.now(), 'signed');
    await store.put('streams/broken/status.json', '{not json', { contentType: 'application/json' });
    const response = await app.request('/');
    expect(response.status).toBe(200);
    expect(response.headers.get('cache-control')).toBe('public, max-age=5');
    const page = await response.text();
    const links = [...page.matchAll(/<a href="\/watch\/([^"]+)">/g)].map((match) => match[1]);
    expect(links).toEqual(['newer', 'older']);
    expect(page).toContain('reconnecting… · for 1 min · up to 1080p');
    expect(page).toContain('href="/live/older/index.m3u8"');
  });

  it('says so when nobody is live', async () => {
    const { app } = edgeAppForTest();
    expect(await (await app.request('/')).text()).toContain('Nobody is live right now.');
  });
});
