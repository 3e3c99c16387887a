/**
 * A broadcast whose sidecar is gone: its live channel closed (or went silent) without releasing
 * the stream, its lease ran out, and no sidecar took the stream up within its reconnect window
 * and the takeover allowance. A sidecar ends its own broadcasts; this one's will never write the
 * end, so the edge does, once: every media playlist gets EXT-X-ENDLIST, the MPD turns static, the
 * status says `ended`, and the platform hears `stream.idle`. Until then viewers see the stream as
 * its sidecar left it (players wait at the live edge); after, as any ended stream (VOD), and a new
 * publish starts a new broadcast numbered after this one (ingest/publish/restore.ts).
 *
 * The live state watches each leased broadcast for this (live-channel-hub.ts); an hourly sweep
 * catches what the watch could not see (endStaleBroadcasts).
 *
 * What the edge cannot finish is the broadcast's recording (its VOD manifests are built from what
 * the sidecar knew of its tracks): the recording's document stays `recording`, and the status no
 * longer points at it, so the player page does not promise it.
 */
import { renderMpd } from '../../shared/dash/mpd.ts';
import { parseMpd } from '../../shared/dash/mpd-parse.ts';
import { parseMediaPlaylist, renderMediaPlaylist } from '../../shared/hls/media-playlist.ts';
import { DEFAULT_RECONNECT_WINDOW_MS, LEASE_TTL_MS, TAKEOVER_ALLOWANCE_MS } from '../../shared/live-channel-protocol.ts';
import { DASH_MPD_TYPE, HLS_PLAYLIST_TYPE, JSON_TYPE } from '../../shared/media-types.ts';
import { streamObjectKey } from '../../shared/storage/layout.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import type { StreamStatus } from '../../shared/stream-status.ts';
import { newEventId, type WebhookEvent } from '../../shared/webhooks.ts';
import { readStreamStatus, UnreadableStreamStatus } from '../storage/stream-status.ts';
import { saveSweepCursor, streamsToSweep } from '../storage/stream-sweep.ts';
import type { Lease } from './stream-lease.ts';

/** When the broadcast of `lease` counts as abandoned, if its holder is not heard from again (epoch ms). */
export function abandonmentDeadline(lease: Lease): number {
  return lease.expiresAt + (lease.reconnectWindowMs ?? DEFAULT_RECONNECT_WINDOW_MS) + TAKEOVER_ALLOWANCE_MS;
}

/**
 * A sidecar rewrites a live stream's status every 10 s (ingest/publish/manifest-writer.ts): one
 * written more recently than this has a writer, whatever the lease says (a sidecar storing
 * straight into the bucket), and is left alone.
 */
const STATUS_WRITTEN_RECENTLY_MS = 20_000;
/**
 * Without a lease to go by (the hourly sweep below): a status not written for this long is no
 * broadcast's any more. A stream waiting for its publisher (`reconnecting`) is not rewritten, and
 * may wait up to the longest reconnect window, an hour; then the lease and the allowance.
 */
export const STALE_STATUS_MS = 3_600_000 + 5 * 60_000;

/** A media playlist as ended (EXT-X-ENDLIST), or undefined when it already is. Pure. */
export function endedMediaPlaylist(text: string): string | undefined {
  const playlist = parseMediaPlaylist(text);
  if (playlist.ended) return undefined;
  return renderMediaPlaylist({ ...playlist, ended: true });
}

/** A live MPD made static at `now` (its Periods and timeline as they were), or undefined when it already is. Pure. */
export function endedMpd(text: string, now: number): string | undefined {
  const manifest = parseMpd(text);
  if (manifest.type === 'static') return undefined;
  return renderMpd({ ...manifest, type: 'static', publishTime: now });
}

/** The status of the ended broadcast: no low-latency parts, no recording it cannot finish. Pure. */
export function endedStatus(status: StreamStatus, now: number): StreamStatus {
  const { lowLatency: _parts, recording, ...rest } = status;
  return { ...rest, ...(recording?.state === 'ready' ? { recording } : {}), state: 'ended', endedAt: now, updatedAt: now };
}

export type EndingOutcome = { ended: true; playlists: number; mpd: boolean; recordingLeft?: string } | { ended: false; reason: string };

export interface BroadcastEndingOptions {
  store: ObjectStore;
  now?: () => number;
  /** Delivers the platform's webhooks (unset: none are sent). */
  report?: (event: WebhookEvent) => Promise<unknown>;
  log?: (line: string) => void;
}

async function readText(store: ObjectStore, key: string): Promise<string | undefined> {
  const object = await store.get(key);
  return object ? new Response(object.body).text() : undefined;
}

/**
 * Ends the abandoned broadcast in storage, in the order a viewer needs: media playlists, MPD, then
 * the status. `lease`: its holder's, which ran out (the live state's watch); undefined: found by
 * the sweep, its status unwritten for STALE_STATUS_MS.
 */
export async function endAbandonedBroadcast(playbackId: string, lease: Lease | undefined, options: BroadcastEndingOptions): Promise<EndingOutcome> {
  const { store } = options;
  const now = (options.now ?? Date.now)();
  let status: StreamStatus | undefined;
  try {
    status = await readStreamStatus(store, playbackId);
  } catch (error) {
    if (error instanceof UnreadableStreamStatus) return { ended: false, reason: error.message };
    throw error;
  }
  if (!status) return { ended: false, reason: 'the stream has no status document' };
  if (status.state === 'ended') return { ended: false, reason: 'the stream has ended already' };
  const unwrittenMs = now - status.updatedAt;
  if (unwrittenMs < STATUS_WRITTEN_RECENTLY_MS) return { ended: false, reason: `its status was written ${Math.round(unwrittenMs / 1000)} s ago: something still writes the stream` };
  if (!lease && unwrittenMs < STALE_STATUS_MS) return { ended: false, reason: `its status was written ${Math.round(unwrittenMs / 60_000)} min ago: within the longest reconnect window` };
  let playlists = 0;
  for (const { name } of status.renditions) {
    const key = streamObjectKey(playbackId, { kind: 'media-playlist', rendition: name });
    const text = await readText(store, key);
    const ended = text === undefined ? undefined : endedMediaPlaylist(text);
    if (ended === undefined) continue;
    await store.put(key, ended, { contentType: HLS_PLAYLIST_TYPE });
    playlists += 1;
  }
  const mpdKey = streamObjectKey(playbackId, { kind: 'mpd' });
  const mpdText = await readText(store, mpdKey);
  const mpd = mpdText === undefined ? undefined : endedMpd(mpdText, now);
  if (mpd !== undefined) await store.put(mpdKey, mpd, { contentType: DASH_MPD_TYPE });
  await store.put(streamObjectKey(playbackId, { kind: 'status' }), JSON.stringify(endedStatus(status, now)), { contentType: JSON_TYPE });
  const recordingLeft = status.recording?.state === 'recording' ? status.recording.id : undefined;
  const message = lease
    ? // The lease ran LEASE_TTL_MS past the holder's last word.
      `ended by the edge: its sidecar (${lease.sidecar}) has not been heard from for ${Math.round((now - (lease.expiresAt - LEASE_TTL_MS)) / 1000)} s, and no sidecar took the stream up within its reconnect window`
    : `ended by the edge: its status has not been written for ${Math.round(unwrittenMs / 60_000)} min (its sidecar is gone), and no sidecar took the stream up`;
  options.log?.(`edge: stream ${playbackId}: ${message}${recordingLeft ? `; its recording ${recordingLeft} stays incomplete` : ''}`);
  await options.report?.({ id: newEventId(), type: 'stream.idle', createdAt: new Date(now).toISOString(), data: { playbackId, message } }).catch((error: unknown) => {
    options.log?.(`edge: stream ${playbackId}: its stream.idle webhook was not recorded: ${error instanceof Error ? error.message : String(error)}`);
  });
  return { ended: true, playlists, mpd: mpd !== undefined, ...(recordingLeft ? { recordingLeft } : {}) };
}

/** Storage reads (a stream's status) per sweep at most. */
const SWEEP_READ_BUDGET = 200;
/** Where a sweep cut short by its budget stopped (edge/storage/stream-sweep.ts). */
export const STALE_BROADCAST_CURSOR_KEY = 'platform/stale-broadcast-cursor.txt';

/**
 * The backstop of the live state's watch, run hourly with the recordings' expiry: a broadcast left
 * live by a sidecar gone while the watch was not there to see it (a Node or Deno edge restarted
 * meanwhile, a sidecar storing straight into the bucket, which has no channel) is ended once its
 * status has not been written for STALE_STATUS_MS. Returns the streams it ended.
 */
export async function endStaleBroadcasts(options: BroadcastEndingOptions, budget = SWEEP_READ_BUDGET): Promise<string[]> {
  const { store } = options;
  const ended: string[] = [];
  let lookedAt: string | undefined;
  for (const playbackId of await streamsToSweep(store, STALE_BROADCAST_CURSOR_KEY, budget)) {
    const outcome = await endAbandonedBroadcast(playbackId, undefined, options).catch(() => undefined);
    if (outcome?.ended) ended.push(playbackId);
    lookedAt = playbackId;
  }
  if (lookedAt !== undefined) await saveSweepCursor(store, STALE_BROADCAST_CURSOR_KEY, lookedAt);
  return ended;
}
