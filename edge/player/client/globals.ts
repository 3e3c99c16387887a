/** The page's globals: the player libraries' <script> builds, and what the page exposes for tests and the console. */
import type * as dashjs from 'dashjs';
import type Hls from 'hls.js';
// Shaka's types are a namespace under its CommonJS module's `default`.
import type * as shakaPackage from 'shaka-player';
import type { PlayerState } from './page.ts';

declare global {
  interface Window {
    Hls?: typeof Hls;
    dashjs?: typeof dashjs;
    shaka?: ShakaLibrary;
    playerState?: PlayerState;
    hls?: Hls;
    dashPlayer?: dashjs.MediaPlayerClass;
    shakaPlayer?: ShakaPlayer;
  }
}

/**
 * The part of Shaka's global `shaka` the page uses. Its typings type the namespace, not the
 * CommonJS module's value (TypeScript sees `default` as the whole module there), and `polyfill` as any.
 */
export interface ShakaLibrary {
  Player: { new (): ShakaPlayer; isBrowserSupported(): boolean };
  polyfill: { installAll(): void };
}
export type ShakaPlayer = shakaPackage.default.Player;
export type ShakaError = shakaPackage.default.util.Error;
export type ShakaTrack = shakaPackage.default.extern.Track;
