/** HLS or DASH with Shaka Player (its compiled <script> build, served by the edge from npm like hls.js). */
import type { PlaybackEngine, PlaybackSource } from './engine.ts';
import { NO_ENGINE } from './engine.ts';
import { fetchFresh } from './fresh-fetch.ts';
import type { ShakaError, ShakaTrack } from './globals.ts';
import type { PlayerPage } from './page.ts';
import { isRefusal, NO_MSE_SHAKA, playbackFailedText, renditionLabel } from './texts.ts';

// ShakaError: BAD_HTTP_STATUS's data is [uri, status, …]; severity 2 is CRITICAL (playback stopped).
const BAD_HTTP_STATUS = 1001;
const CRITICAL = 2;

/** What Shaka's error says, for the page's error list and its failure line. */
function describe(error: ShakaError): string {
  return `code ${error.code} (category ${error.category}, severity ${error.severity})`;
}

/** The URL and HTTP status of a failed request, if that is what the error is. */
function httpFailure(error: ShakaError): { url: string; status: number } | undefined {
  if (error.code !== BAD_HTTP_STATUS) return undefined;
  const [url, status] = error.data as unknown[];
  return typeof url === 'string' && typeof status === 'number' ? { url, status } : undefined;
}

function isShakaError(value: unknown): value is ShakaError {
  return typeof value === 'object' && value !== null && typeof (value as { code?: unknown }).code === 'number';
}

export function startShaka(page: PlayerPage, source: PlaybackSource): PlaybackEngine {
  const { video, quality, state, config } = page;
  const shakaLibrary = window.shaka;
  if (!shakaLibrary) {
    page.showError('Shaka Player did not load.');
    return NO_ENGINE;
  }
  shakaLibrary.polyfill.installAll();
  if (!shakaLibrary.Player.isBrowserSupported()) {
    page.showError(NO_MSE_SHAKA);
    return NO_ENGINE;
  }
  const player = new shakaLibrary.Player();
  window.shakaPlayer = player;
  let stopped = false;
  const fail = (error: ShakaError) => {
    if (stopped) return;
    const http = httpFailure(error);
    // A refusal is for good, fatal or not (as with hls.js).
    if (http && isRefusal(http.status)) {
      stopped = true;
      void player.destroy();
      void page.showRefusal(http.url, http.status);
      return;
    }
    if (error.severity !== CRITICAL) return;
    stopped = true;
    void player.destroy();
    state.fatal = String(error.code);
    page.showError(playbackFailedText(`shaka / ${describe(error)}`, http ? `HTTP ${http.status} ${http.url}` : undefined));
  };
  // Shaka fires "error" for recoverable problems too (severity 1): every one is recorded.
  player.addEventListener('error', (event) => {
    const error = (event as CustomEvent<unknown>).detail;
    if (!isShakaError(error)) return;
    state.errors.push({ type: 'shaka', details: describe(error), fatal: error.severity === CRITICAL });
    fail(error);
  });
  quality.onchange = () => {
    const auto = quality.value === 'auto';
    player.configure({ abr: { enabled: auto } });
    const track = player.getVariantTracks().find((candidate) => String(candidate.id) === quality.value);
    if (!auto && track) player.selectVariantTrack(track, true);
  };
  // Shaka's defaults, nothing set (issue 22). Not `manifest.hls.ignoreManifestTimestampsInSegmentsMode`,
  // once set here around Shaka 5.2.12's abort() before a part (the edge's part DURATIONs avoid
  // that since): with it Shaka appends media at the media's own times, which match the playlist's
  // only while the stream is younger than its live window; on an older one the buffer lies a
  // minute past the playhead and nothing ever plays (2026-12-06, wrangler dev, 50 s into the stream).
  void (async () => {
    await player.attach(video);
    try {
      if (config.format === 'hls' && source.live) await untilThreeSegmentsOld(config.statusUrl);
      await player.load(source.url);
    } catch (error) {
      if (!isShakaError(error)) throw error;
      state.errors.push({ type: 'shaka', details: `load failed: ${describe(error)}`, fatal: true });
      const http = httpFailure(error);
      if (http?.status === 404) {
        stopped = true;
        await player.detach();
        page.notLiveYet();
        return;
      }
      fail(error);
      return;
    }
    page.fillQualityMenu(
      oneTrackPerHeight(player.getVariantTracks()).map((track) => ({ value: String(track.id), height: track.height ?? 0, bitrate: track.videoBandwidth ?? track.bandwidth })),
      (r) => renditionLabel(r.height, r.bitrate),
    );
    if (source.autoplay) video.play().catch(() => page.pressPlay());
  })().catch((error: unknown) => page.showError(playbackFailedText(`shaka / ${String(error)}`)));

  const active = () => player.getVariantTracks().find((track) => track.active);
  return {
    height: () => active()?.height ?? NaN,
    latency: () => player.getStats().liveLatency,
    // Shaka takes parts when the playlist is low-latency and its lowLatencyMode (on by default) allows.
    lowLatency: () => Boolean(player.getManifest()?.isLowLatency) && player.getConfiguration().streaming.lowLatencyMode,
    finishEndedStream: () => {},
    stop: () => {
      stopped = true;
      void player.destroy();
    },
  };
}

/** Shaka lists a variant per video and audio pair: the menu offers each height once, at its highest bitrate. */
function oneTrackPerHeight(tracks: ShakaTrack[]): ShakaTrack[] {
  const best = new Map<number, ShakaTrack>();
  for (const track of tracks) {
    if (track.height === null) continue;
    const known = best.get(track.height);
    if (!known || track.bandwidth > known.bandwidth) best.set(track.height, track);
  }
  return [...best.values()];
}

/**
 * Shaka Player's HLS start-up stalls for good (load() never settles, nothing plays, no error) on a
 * live playlist of two segments, a stream that started seconds ago; with three it starts. So an
 * HLS load waits until the broadcast is three target durations old (by its status document).
 */
async function untilThreeSegmentsOld(statusUrl: string): Promise<void> {
  try {
    const response = await fetchFresh(statusUrl);
    if (!response.ok) return;
    const status = (await response.json()) as { startedAt?: unknown; targetDuration?: unknown; state?: unknown };
    if (status.state !== 'live' || typeof status.startedAt !== 'number' || typeof status.targetDuration !== 'number') return;
    const wait = status.startedAt + (3 * status.targetDuration + 1) * 1000 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 10_000)));
  } catch {
    // No status to go by: load at once.
  }
}

