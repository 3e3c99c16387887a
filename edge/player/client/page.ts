/** The player page's elements and what every player reports into: state, error box, status line, quality menu. */
import type { PlayerPageConfig } from './config.ts';
import { fetchFresh } from './fresh-fetch.ts';
import { streamBadge, streamDisplay, streamViewText, withPageToken, type StreamDisplay, type StreamView } from './stream-view.ts';
import { isRefusal, NOT_LIVE_YET, PRESS_PLAY, RECORDING_NOT_YET, refusalReason, refusalText } from './texts.ts';

/** One error event of the player, as recorded for tests and for people debugging in the console. */
export interface RecordedError {
  type: string;
  details: string;
  fatal: boolean;
}

/** `window.playerState`: read by end-to-end tests and by people debugging in the console. */
export interface PlayerState {
  format: PlayerPageConfig['format'];
  player: PlayerPageConfig['player'];
  playing: boolean;
  errors: RecordedError[];
  fatal: string | null;
  renditions?: number[];
  height?: number;
  latency?: number;
  buffer?: number;
  lowLatency?: boolean;
  stalls?: number;
  /** dash.js playheads the page moved (playhead.ts: stillPlayheadMove), `KIND FROM->TO`. */
  playheadMoves?: string[];
  /** The status document's `state`. */
  streamState?: string;
  /** What the page shows of the stream (stream-view.ts). */
  streamView?: StreamDisplay;
  /** The page plays the stream's recording (VOD), not its live manifest. */
  onRecording?: boolean;
}

export interface Rendition {
  /** The player's id of the rendition (what the menu hands back). */
  value: string;
  height: number;
  bitrate: number;
}

function element<T extends HTMLElement>(id: string, type: { new (): T }): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`player page: no #${id}`);
  return found;
}

/** The page as a player sees it: where it plays, what it reports, how it says what went wrong. */
export class PlayerPage {
  readonly video = element('video', HTMLVideoElement);
  readonly quality = element('quality', HTMLSelectElement);
  readonly stats = element('stats', HTMLElement);
  readonly statusLine = element('status', HTMLElement);
  readonly streamStateLine = element('stream-state', HTMLElement);
  private readonly badge = element('stream-badge', HTMLElement);
  private readonly download = element('recording-download', HTMLAnchorElement);
  private readonly errorBox = element('error', HTMLElement);
  readonly state: PlayerState;

  readonly config: PlayerPageConfig;
  /** Starts the player again (once the stream may be live). */
  private readonly restart: () => void;

  constructor(config: PlayerPageConfig, restart: () => void) {
    this.config = config;
    this.restart = restart;
    this.state = { format: config.format, player: config.player, playing: false, errors: [], fatal: null };
  }

  showError(message: string): void {
    this.errorBox.hidden = false;
    this.errorBox.textContent = message;
  }

  /** The manifest is not there (404): the live stream not started, or the recording not stored yet; tried again in a while. */
  notLiveYet(): void {
    this.statusLine.textContent = this.state.onRecording ? RECORDING_NOT_YET : NOT_LIVE_YET;
    setTimeout(this.restart, 3000);
  }

  pressPlay(): void {
    this.statusLine.textContent = PRESS_PLAY;
  }

  /** A refusal is for good: players only see the status, so the page asks once for the edge's reason. */
  async showRefusal(url: string, status: 401 | 403): Promise<void> {
    let reason = '';
    try {
      reason = refusalReason(await (await fetchFresh(url)).json());
    } catch {
      // No JSON reason (a proxy's page, say): the status alone.
    }
    this.state.fatal = `refused-${status}`;
    this.statusLine.textContent = '';
    this.showError(refusalText(status, reason));
  }

  /** For players that do not say why a manifest failed: a refusal is shown, anything else (404) waits for the stream. */
  explainManifestFailure(url: string): void {
    fetchFresh(url)
      .then((response) => (isRefusal(response.status) ? this.showRefusal(url, response.status) : this.notLiveYet()))
      .catch(() => this.notLiveYet());
  }

  /** The badge and sentence for the stream's state, and the recording's MP4 link once it is complete. */
  showStreamView(view: StreamView): void {
    const shown = streamDisplay(view, this.state.onRecording === true);
    this.state.streamView = shown;
    this.badge.textContent = streamBadge(shown);
    // The badge's colour is its class (the page's style): red live, amber reconnecting, grey ended, blue recording.
    this.badge.className = `badge ${shown}`;
    this.streamStateLine.textContent = streamViewText(shown);
    const recording = view.kind === 'recording' || view.kind === 'recording-pending' ? view.recording : undefined;
    this.download.hidden = recording?.state !== 'ready';
    if (recording?.state === 'ready') this.download.href = withPageToken(recording.mp4, location.search);
  }

  /** Back to "Auto" alone, before another manifest fills the menu. */
  clearQualityMenu(): void {
    for (const option of [...this.quality.options]) if (option.value !== 'auto') option.remove();
    this.quality.value = 'auto';
  }

  fillQualityMenu(renditions: Rendition[], label: (rendition: Rendition) => string): void {
    this.state.renditions = renditions.map((r) => r.height);
    for (const r of [...renditions].sort((a, b) => b.height - a.height)) {
      const option = document.createElement('option');
      option.value = r.value;
      option.textContent = label(r);
      this.quality.append(option);
    }
  }
}
