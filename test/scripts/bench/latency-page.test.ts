import { describe, expect, it } from 'vitest';
import { CLOCK_LAYOUT } from '../../../scripts/bench/clock-pattern.ts';
import { renderLatencyPage } from '../../../scripts/bench/latency-page.ts';
import { LATENCY_MODES, playbackModes } from '../../../scripts/bench/latency-stage.ts';

/** The page's own script (the second <script>; the first loads hls.js). */
function pageScript(html: string): string {
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((match) => match[1]!);
  expect(scripts).toHaveLength(1);
  return scripts[0]!;
}

describe('the latency measuring page', () => {
  it.each(Object.values(LATENCY_MODES))('is JavaScript a browser can run, for the %s mode (the player page\'s catch-up from its TypeScript source included)', (name) => {
    const [mode] = playbackModes(undefined, [name]);
    const html = renderLatencyPage({ playlistUrl: 'http://127.0.0.1/live/x.m3u8', hlsConfig: mode!.hlsConfig, hlsScriptUrl: '/hls.js', layout: CLOCK_LAYOUT, sampleEveryMs: 200, playerScript: mode!.playerScript });
    // Parsed, not run (no DOM here): a syntax error, e.g. a type left in a function's source, throws.
    expect(() => new Function(pageScript(html))).not.toThrow();
  });

  it('runs the player page\'s catch-up in the player-page modes only (hls.js at its defaults gets nothing beside it)', () => {
    const modes = playbackModes();
    const byName = Object.fromEntries(modes.map((mode) => [mode.name, mode]));
    expect(byName['hls.js defaults']!.playerScript).toBeUndefined();
    expect(byName['hls.js defaults']!.hlsConfig).toEqual({ lowLatencyMode: true });
    expect(byName['low-latency']!.playerScript).toContain('catchUpRate');
    expect(byName['low-latency']!.hlsConfig).toMatchObject({ lowLatencyMode: true, maxLiveSyncPlaybackRate: 1 });
  });
});
