/**
 * The player libraries the edge serves itself (hls.js, dash.js, Shaka Player), read from the
 * installed packages on Node and Deno (Workers bundles them as text modules: edge/worker.ts).
 */
import { readFile } from 'node:fs/promises';
import type { PlayerAssets } from '../routes/pages.ts';

/** A file of an installed package and the package's version (dash.js exports neither its build nor its package.json: read by path). */
async function packageFile(packageName: string, file: string): Promise<{ source: string; version: string }> {
  const root = new URL(`../../node_modules/${packageName}/`, import.meta.url);
  const { version } = JSON.parse(await readFile(new URL('package.json', root), 'utf8')) as { version: string };
  return { source: await readFile(new URL(file, root), 'utf8'), version };
}

export async function readPlayerAssets(): Promise<PlayerAssets> {
  const [hls, dash, shaka] = await Promise.all([
    packageFile('hls.js', 'dist/hls.min.js'),
    packageFile('dashjs', 'dist/modern/umd/dash.all.min.js'),
    packageFile('shaka-player', 'dist/shaka-player.compiled.js'),
  ]);
  return { hlsJsVersion: hls.version, hlsJsSource: hls.source, dashJsVersion: dash.version, dashJsSource: dash.source, shakaVersion: shaka.version, shakaSource: shaka.source };
}
