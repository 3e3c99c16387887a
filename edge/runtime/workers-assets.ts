/** The player libraries the Workers edge serves, bundled into the worker as text modules (wrangler.toml [[rules]]). */
import hlsJsSource from 'hls.js/dist/hls.min.js';
import hlsJsPackage from 'hls.js/package.json' with { type: 'json' };
import shakaSource from 'shaka-player/dist/shaka-player.compiled.js';
import shakaPackage from 'shaka-player/package.json' with { type: 'json' };
// dash.js does not export its browser build as a subpath: it is imported by path.
import dashJsSource from '../../node_modules/dashjs/dist/modern/umd/dash.all.min.js';
import dashJsPackage from '../../node_modules/dashjs/package.json' with { type: 'json' };
import type { PlayerAssets } from '../routes/pages.ts';

export const BUNDLED_PLAYER_ASSETS: PlayerAssets = {
  hlsJsVersion: hlsJsPackage.version,
  hlsJsSource,
  dashJsVersion: dashJsPackage.version,
  dashJsSource,
  shakaVersion: shakaPackage.version,
  shakaSource,
};
