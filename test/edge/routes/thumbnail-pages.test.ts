/** The pages' use of thumbnails: the front page's grid, the player's poster, og:image for link previews. */
import { describe, expect, it } from 'vitest';
import { mintPlaybackToken } from '../../../shared/playback-token.ts';
import { edgeAppForTest, putStreamStatus, TEST_PLAYBACK_SECRET } from '../../helpers/edge-app.ts';

describe('thumbnails on the pages', () => {
  it("the front page shows each public live stream's thumbnail in a grid, og:image the newest one's; never a signed stream's", async () => {
    const { app, store } = edgeAppForTest({ playbackSecret: TEST_PLAYBACK_SECRET });
    await putStreamStatus(store, 'colors');
    await putStreamStatus(store, 'vip', 'signed');
    const page = await (await app.request('https://tv.example/')).text();
    expect(page).toContain('<ul id="streams">');
    expect([...page.matchAll(/<img src="([^"]+)"/g)].map((match) => match[1])).toEqual(['/live/colors/thumbnail.jpg?width=320']);
    expect(page).toContain('<meta property="og:image" content="https://tv.example/live/colors/thumbnail.jpg">');
    expect(page).not.toContain('vip');
  });

  it('the front page has no og:image when nobody is live', async () => {
    const { app } = edgeAppForTest();
    expect(await (await app.request('https://tv.example/')).text()).not.toContain('og:image');
  });

  it("the player page shows the thumbnail as the video's poster, og:image with the request's origin", async () => {
    const { app } = edgeAppForTest();
    const page = await (await app.request('http://localhost:8080/watch/colors')).text();
    expect(page).toMatch(/<video id="video"[^>]* poster="\/live\/colors\/thumbnail.jpg">/);
    expect(page).toContain('<meta property="og:image" content="http://localhost:8080/live/colors/thumbnail.jpg">');
  });

  it("a viewer's token goes with the poster, never into og:image", async () => {
    const { app } = edgeAppForTest({ playbackSecret: TEST_PLAYBACK_SECRET });
    const token = await mintPlaybackToken(TEST_PLAYBACK_SECRET, 'vip', Math.floor(Date.now() / 1000) + 3600);
    const page = await (await app.request(`https://tv.example/watch/vip?token=${token}`)).text();
    expect(page).toContain(` poster="/live/vip/thumbnail.jpg?token=${token}"`);
    expect(page).not.toContain('og:image');
  });
});
