/**
 * Writes one stream's manifests, in the order the contract needs: the status document before
 * the first playlist (the edge serves nothing without it), a rendition's media playlist once its
 * segments are stored, the multivariant playlist once every rendition lists a segment, the DASH
 * MPD over the same segments, and the status again as the stream goes live, pauses and ends.
 * What each lists comes from the live window; the text from pure builders.
 */
import { renderMediaPlaylist } from '../../shared/hls/media-playlist.ts';
import { renderMultivariantPlaylist } from '../../shared/hls/multivariant-playlist.ts';
import { renderMpd } from '../../shared/dash/mpd.ts';
import { DASH_MPD_TYPE, HLS_PLAYLIST_TYPE, JSON_TYPE } from '../../shared/media-types.ts';
import { streamObjectKey, type StreamObjectRef } from '../../shared/storage/layout.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import type { StreamStatus, StreamStatusRecording } from '../../shared/stream-status.ts';
import type { CmafTrack } from '../package/cmaf-track.ts';
import type { BackoffOptions } from '../upload/backoff.ts';
import { LatestWriter } from '../upload/latest-writer.ts';
import { buildDashManifest } from './dash-manifest.ts';
import type { LiveWindow } from './live-window.ts';
import { buildMultivariantPlaylist, buildStreamStatus, type RenditionSummary } from './stream-manifests.ts';

/** A rendition as the manifests see it: its ladder entry, its measured rates, its tracks. */
export interface RenditionOutput extends RenditionSummary {
  /** The track of each session whose init segment is stored. */
  tracks: Map<string, CmafTrack>;
}

export interface ManifestWriterOptions {
  playbackId: string;
  store: ObjectStore;
  backoff: BackoffOptions;
  window: LiveWindow;
  renditions: readonly RenditionOutput[];
  /** Nominal segment duration, seconds. */
  targetSegmentDuration: number;
  playback: 'public' | 'signed';
  /** Set when parts are announced. */
  partTarget?: number;
  startedAt: number;
  now: () => number;
  /** Sessions begun so far. */
  sessions: () => number;
  /** Per session, the wall clock at its media time zero (epoch ms), where known. */
  sessionClocks: () => ReadonlyMap<string, number>;
  /** The broadcast's recording, for the status document (while the stream records). */
  recording?: () => StreamStatusRecording | undefined;
}

// Rewrite the multivariant playlist when the measured peak outgrows what it advertises by this much.
const BANDWIDTH_REWRITE_RATIO = 1.1;
// A live stream's status document is refreshed this often (its `updatedAt` says it is alive).
const STATUS_REFRESH_MS = 10_000;

export class ManifestWriter {
  private readonly options: ManifestWriterOptions;
  private readonly playlists = new Map<string, LatestWriter>();
  private readonly multivariant: LatestWriter;
  private readonly status: LatestWriter;
  private readonly mpd: LatestWriter;
  private advertised: { bandwidth: number; signature: string } | undefined;
  private statusWrittenAt = 0;
  /** Where the newest MPD's listing ended (LiveWindow.dashEnd), and when it was asked for. */
  private mpdEnd: number | undefined;
  private mpdWrittenAt = 0;
  /** A crashed sidecar had announced this stream live (its playlists were taken up unended): its status and MPD must still say how it goes on. */
  announcedBeforeRestart = false;
  ended = false;

  constructor(options: ManifestWriterOptions) {
    this.options = options;
    const writer = (ref: StreamObjectRef, type: string) => new LatestWriter(options.store, streamObjectKey(options.playbackId, ref), type, options.backoff, options.now);
    this.multivariant = writer({ kind: 'multivariant' }, HLS_PLAYLIST_TYPE);
    this.status = writer({ kind: 'status' }, JSON_TYPE);
    this.mpd = writer({ kind: 'mpd' }, DASH_MPD_TYPE);
    for (const { rendition } of options.renditions) this.playlists.set(rendition.name, writer({ kind: 'media-playlist', rendition: rendition.name }, HLS_PLAYLIST_TYPE));
  }

  /** Whether viewers were told this stream is live: by this sidecar, or by the one before a crash. */
  get announced(): boolean {
    return this.advertised !== undefined || this.announcedBeforeRestart;
  }

  /** Every media playlist's and the MPD's newest version is stored (nothing stored lists what they no longer do). */
  get upToDate(): boolean {
    return this.mpd.upToDate && [...this.playlists.values()].every((writer) => writer.upToDate);
  }

  /**
   * How long the oldest media playlist version not yet stored has waited, milliseconds (0: every
   * one is stored). Segments may be stored (the edge writes them from their parts) while their
   * playlists are not: storage is behind for viewers all the same.
   */
  behindMs(): number {
    let behind = 0;
    for (const writer of this.playlists.values()) behind = Math.max(behind, writer.waitingMs);
    return behind;
  }

  /** The rendition listed new segments: its playlist, then what depends on it. */
  async listed(rendition: string): Promise<void> {
    // The edge serves nothing of a stream without its status document (it says who may watch):
    // it is stored before the first playlist. A new broadcast says `starting` until its
    // multivariant playlist is stored (then `live`): until then the edge serves none of the
    // previous broadcast's playlists, which storage still holds.
    if (this.statusWrittenAt === 0) await this.writeStatus(this.announced ? 'live' : 'starting');
    await this.writeMediaPlaylist(rendition);
    await this.writeMultivariantWhenDue();
    if (this.advertised && this.mpdDue()) await this.writeMpd();
    if (this.advertised && this.options.now() - this.statusWrittenAt > STATUS_REFRESH_MS) await this.writeStatus('live');
  }

  /** The publisher is gone but may come back: the playlists stay live, the status says so. */
  async pause(): Promise<void> {
    if (this.announced) await this.writeStatus('reconnecting');
  }

  /** The stream ended: every media playlist closes with ENDLIST, the MPD turns static, the status says ended. */
  async end(): Promise<void> {
    this.ended = true;
    const window = this.options.window;
    await Promise.all(
      this.options.renditions.map(async ({ rendition }) => {
        if (this.playlists.get(rendition.name)!.storedOnce || window.hasListed(rendition.name)) await this.writeMediaPlaylist(rendition.name);
      }),
    );
    if (this.announced || this.mpd.storedOnce) await this.writeMpd();
    // Also a broadcast that never got past `starting`: its status must not say so for ever.
    if (this.announced || this.statusWrittenAt > 0) await this.writeStatus('ended');
  }

  private async writeMediaPlaylist(rendition: string): Promise<void> {
    const playlist = this.options.window.playlist(rendition, this.ended);
    if (playlist) await this.playlists.get(rendition)!.write(renderMediaPlaylist(playlist));
  }

  /** Once every rendition lists a segment; again when a reconnect changed what it advertises, or the bandwidth outgrew it. */
  private async writeMultivariantWhenDue(): Promise<void> {
    const renditions = this.options.renditions;
    const ready = renditions.every(({ rendition, track }) => this.playlists.get(rendition.name)!.storedOnce && track && this.options.window.hasListed(rendition.name));
    if (!ready) return;
    const playlist = buildMultivariantPlaylist(renditions);
    const bandwidth = Math.max(...playlist.variants.map((variant) => variant.bandwidth));
    // What a reconnect may change (codecs, picture size): any change is advertised at once.
    const signature = JSON.stringify(playlist.variants.map((variant) => [variant.codecs, variant.resolution]));
    const previous = this.advertised;
    if (previous && previous.signature === signature && bandwidth <= previous.bandwidth * BANDWIDTH_REWRITE_RATIO) return;
    this.advertised = { bandwidth, signature };
    await this.multivariant.write(renderMultivariantPlaylist(playlist));
    if (!previous) await this.writeStatus('live');
  }

  /**
   * Whether the MPD is to be stored again after a listing. It lists only what every rendition has
   * listed, so a segment changes it when the last rendition lists it: the listings before that
   * one would store it over and over with only its front moved (the first rendition's oldest
   * segment left its window; listed a little longer, well before retention deletes it). Stored
   * anyway after two target durations: a rung that stops listing never moves the end.
   */
  private mpdDue(): boolean {
    return this.mpdEnd !== this.options.window.dashEnd() || this.options.now() - this.mpdWrittenAt >= 2 * this.options.targetSegmentDuration * 1000;
  }

  /** The DASH MPD over the same segments: written after the HLS playlists, never listing a segment before they do. */
  private async writeMpd(): Promise<void> {
    const window = this.options.window;
    this.mpdEnd = window.dashEnd();
    this.mpdWrittenAt = this.options.now();
    const renditions = this.options.renditions.map(({ rendition, stats, tracks }) => ({
      name: rendition.name,
      kind: rendition.kind,
      bandwidth: stats.peakBitsPerSecond,
      frameRate: rendition.kind === 'video' ? stats.framesPerSecond : undefined,
      tracks,
      segments: window.dashSegments(rendition.name, this.ended),
    }));
    const targetDuration = window.targetDuration();
    const sessionClocks = new Map([...this.options.sessionClocks()].filter(([, clock]) => !Number.isNaN(clock)));
    const manifest = buildDashManifest(renditions, { sessionClocks, ended: this.ended, timeline: 'wall-clock', now: this.options.now(), targetDuration, windowSeconds: window.windowSeconds() });
    await this.mpd.write(renderMpd(manifest));
  }

  private async writeStatus(state: StreamStatus['state']): Promise<void> {
    const now = this.options.now();
    this.statusWrittenAt = now;
    const facts = {
      playbackId: this.options.playbackId,
      state,
      startedAt: this.options.startedAt,
      now,
      targetDuration: this.options.targetSegmentDuration,
      sessions: this.options.sessions(),
      playback: this.options.playback,
      partTarget: this.options.partTarget,
      recording: this.options.recording?.(),
    };
    await this.status.write(JSON.stringify(buildStreamStatus(facts, this.options.renditions)));
  }
}
