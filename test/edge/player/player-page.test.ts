import { describe, expect, it } from 'vitest';
import { createApp } from '../../../edge/app.ts';
import { MemoryObjectStore } from '../../../shared/storage/memory-object-store.ts';
import { renderPlayerPage } from '../../../edge/player/player-page.ts';
import { edgeAppForTest } from '../../helpers/edge-app.ts';

/** The page's JSON config, as its script reads it. */
function pageConfig(page: string): unknown {
  const json = /<script id="player-config" type="application\/json">(.*?)<\/script>/.exec(page)?.[1];
  return json === undefined ? undefined : JSON.parse(json);
}

const scriptSources = (page: string) => [...page.matchAll(/<script src="([^"]+)"><\/script>/g)].map((match) => match[1]);

describe('the player page', () => {
  const { app } = edgeAppForTest();

  it.each([
    { query: '', library: '/assets/hls-9.9.9.min.js', config: { format: 'hls', player: 'hls.js', manifestUrl: '/live/colors/index.m3u8' }, says: 'Playing HLS with hls.js' },
    { query: '?format=dash', library: '/assets/dash-8.8.8.min.js', config: { format: 'dash', player: 'dash.js', manifestUrl: '/live/colors/manifest.mpd' }, says: 'Playing DASH with dash.js' },
    { query: '?player=shaka', library: '/assets/shaka-player-7.7.7.compiled.js', config: { format: 'hls', player: 'shaka', manifestUrl: '/live/colors/index.m3u8' }, says: 'Playing HLS with Shaka Player' },
    { query: '?format=dash&player=shaka', library: '/assets/shaka-player-7.7.7.compiled.js', config: { format: 'dash', player: 'shaka', manifestUrl: '/live/colors/manifest.mpd' }, says: 'Playing DASH with Shaka Player' },
  ])('plays "$query" with the player library it names, then the page script, both from this edge', async ({ query, library, config, says }) => {
    const page = await (await app.request(`/watch/colors${query}`)).text();
    expect(pageConfig(page)).toEqual({ ...config, statusUrl: '/live/colors/status.json' });
    expect(page).toContain(says);
    const [libraryUrl, clientUrl] = scriptSources(page);
    expect(libraryUrl).toBe(library);
    expect(clientUrl).toMatch(/^\/assets\/player-[0-9a-f]{12}\.js$/);
    for (const url of [libraryUrl, clientUrl]) {
      const script = await app.request(url ?? '');
      expect(script.status).toBe(200);
      expect(script.headers.get('content-type')).toMatch(/javascript/);
      expect(script.headers.get('cache-control')).toContain('immutable');
    }
  });

  it('links the other choices, keeping Shaka Player when it plays', async () => {
    expect(await (await app.request('/watch/colors')).text()).toMatch(/<a href="\?format=dash">switch to DASH \(dash\.js\)<\/a> · <a href="\?format=hls&amp;player=shaka">play with Shaka Player<\/a>/);
    expect(await (await app.request('/watch/colors?player=shaka')).text()).toMatch(/<a href="\?format=dash&amp;player=shaka">switch to DASH \(Shaka Player\)<\/a> · <a href="\?format=hls">play with hls\.js<\/a>/);
  });

  it('has the state badge, its sentence and a hidden MP4 link for the script to fill (stream-view.ts)', async () => {
    const page = await (await app.request('/watch/colors')).text();
    expect(page).toContain('<span id="stream-badge" class="badge"></span> <span id="stream-state"></span>');
    expect(page).toMatch(/<a id="recording-download" download hidden>Download MP4<\/a>/);
    // Each state its colour: the e2e test reads them off the screen.
    for (const state of ['live', 'reconnecting', 'recording']) expect(page).toMatch(new RegExp(`\\.badge\\.${state} \\{ background: #[0-9a-f]{6};`));
  });

  it('refuses a player it does not have', async () => {
    const response = await app.request('/watch/colors?player=jwplayer');
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('player must be shaka');
    const withoutShaka = createApp({ store: new MemoryObjectStore(), ingestSecret: undefined, assets: { hlsJsVersion: '1', hlsJsSource: '', dashJsVersion: '1', dashJsSource: '' } });
    expect((await withoutShaka.request('/watch/colors?player=shaka')).status).toBe(404);
  });

  it('keeps a URL from closing the config script', () => {
    const page = renderPlayerPage({
      playbackId: 'colors',
      format: 'hls',
      player: 'hls.js',
      playlistUrl: '/live/colors/index.m3u8?token=</script><script>alert(1)</script>',
      mpdUrl: '/live/colors/manifest.mpd',
      statusUrl: '/live/colors/status.json',
      libraryScriptUrl: '/assets/hls.js',
      clientScriptUrl: '/assets/player.js',
    });
    expect(page.match(/<\/script>/g)).toHaveLength(3);
    expect(pageConfig(page)).toMatchObject({ manifestUrl: '/live/colors/index.m3u8?token=</script><script>alert(1)</script>' });
  });
});
