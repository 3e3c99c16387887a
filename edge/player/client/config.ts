/** What the player page tells its script: which player plays which manifest. Pure: read by the edge and the browser. */

export type ManifestFormat = 'hls' | 'dash';
/** The player library the page plays with: hls.js for HLS and dash.js for DASH by default, Shaka Player for either on request. */
export type PlayerLibrary = 'hls.js' | 'dash.js' | 'shaka';

export interface PlayerPageConfig {
  format: ManifestFormat;
  player: PlayerLibrary;
  manifestUrl: string;
  statusUrl: string;
}

/** The viewer's choice from the page's query (`?format=dash`, `?player=shaka`), or why it is not one. */
export type PlayerChoice = { ok: true; format: ManifestFormat; player: PlayerLibrary } | { ok: false; reason: string };

export function parsePlayerChoice(query: URLSearchParams): PlayerChoice {
  const format = query.get('format') ?? 'hls';
  if (format !== 'hls' && format !== 'dash') return { ok: false, reason: 'format must be hls or dash' };
  const player = query.get('player');
  if (player === null) return { ok: true, format, player: format === 'hls' ? 'hls.js' : 'dash.js' };
  if (player !== 'shaka') return { ok: false, reason: 'player must be shaka (or absent: hls.js plays HLS, dash.js DASH)' };
  return { ok: true, format, player };
}

const LIBRARIES: readonly PlayerLibrary[] = ['hls.js', 'dash.js', 'shaka'];

/** The page's JSON config as the script reads it back: anything else is a page this script was not made for. */
export function readPlayerPageConfig(value: unknown): PlayerPageConfig {
  if (typeof value !== 'object' || value === null) throw new Error('player config: not an object');
  const { format, player, manifestUrl, statusUrl } = value as Record<string, unknown>;
  if (format !== 'hls' && format !== 'dash') throw new Error(`player config: format ${String(format)}`);
  if (!LIBRARIES.includes(player as PlayerLibrary)) throw new Error(`player config: player ${String(player)}`);
  if (typeof manifestUrl !== 'string' || typeof statusUrl !== 'string') throw new Error('player config: URLs missing');
  return { format, player: player as PlayerLibrary, manifestUrl, statusUrl };
}
