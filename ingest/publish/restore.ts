/**
 * What storage holds of a stream from before this sidecar: each rendition's media playlist and
 * the init segments it references, read back so that numbering never goes back. A live playlist
 * left by a crashed sidecar is taken up where it stopped; an ended one only gives its numbering.
 */
import { parseMediaPlaylist, type MediaPlaylist } from '../../shared/hls/media-playlist.ts';
import { parseInitSegmentFile, parseMediaSegmentFile, streamObjectKey } from '../../shared/storage/layout.ts';
import type { ObjectStore } from '../../shared/storage/object-store.ts';
import { TAKEOVER_ALLOWANCE_MS } from '../../shared/live-channel-protocol.ts';
import { parseCmafInitSegment, parseFragmentTiming, type CmafTrack } from '../package/cmaf-track.ts';
import { childBoxes } from '../package/mp4-boxes.ts';
import type { ListedSegment, LiveWindow, TakenUpPlaylist } from './live-window.ts';
import type { RenditionOutput } from './manifest-writer.ts';

export interface StoredRendition {
  name: string;
  /** One past the last number its stored playlist lists. */
  nextSequence: number;
  /** Its playlist was live (not ended): taken up as it is. */
  live?: TakenUpPlaylist;
  /** The track of each session it lists, from the stored init segments. */
  tracks: Map<string, CmafTrack>;
}

export interface StoredStream {
  renditions: StoredRendition[];
  /** Per session listed, the wall clock at its media time zero (from its first segment still listed). */
  clocks: Map<string, number>;
  /** Some live playlist listed segments: viewers were told the stream is live. */
  announced: boolean;
  /** Live playlists another sidecar left (not this one's journal) were taken up: a takeover. */
  takenOver?: boolean;
}

/** A stored playlist's URIs are the layout's names; anything else was not written by a sidecar. */
function segmentName(uri: string): { session: string; time: number } {
  const parsed = parseMediaSegmentFile(uri);
  if (!parsed) throw new Error(`stored playlist lists ${JSON.stringify(uri)}, not a segment name of the storage layout`);
  return parsed;
}

function initSessionOf(initUri: string): string {
  const session = parseInitSegmentFile(initUri);
  if (!session) throw new Error(`stored playlist maps ${JSON.stringify(initUri)}, not an init segment name of the storage layout`);
  return session;
}

/**
 * Whether a live playlist left in storage (its sidecar gone without ending it: killed, or lost
 * with its machine) is the broadcast a new publish of the stream continues, or one long over
 * that the new broadcast only numbers after. Platform state decides, not this sidecar's journal:
 * its newest listed media ended within the stream's reconnect window (plus the allowance above)
 * before now. `reconnectWindowMs` unset: always (a sidecar's own journal said the stream was
 * open); 0: never (the stream ends when its publisher leaves). Pure.
 */
export function continuesStoredBroadcast(newestMediaEnd: number | undefined, now: number, reconnectWindowMs: number | undefined): boolean {
  if (reconnectWindowMs === undefined) return true;
  if (reconnectWindowMs <= 0 || newestMediaEnd === undefined || !Number.isFinite(newestMediaEnd)) return false;
  return now - newestMediaEnd <= reconnectWindowMs + TAKEOVER_ALLOWANCE_MS;
}

/** When a playlist's newest listed media ended (wall clock, epoch ms); undefined if it lists none with a time. */
function newestMediaEnd(playlist: MediaPlaylist): number | undefined {
  const ends = playlist.segments.filter((segment) => Number.isFinite(segment.programDateTime)).map((segment) => segment.programDateTime + segment.duration * 1000);
  return ends.length > 0 ? Math.max(...ends) : undefined;
}

export interface TakeUpPolicy {
  /** The stream's reconnect window; unset: a live stored playlist is always taken up (see continuesStoredBroadcast). */
  reconnectWindowMs?: number;
  now: number;
}

export async function readStoredStream(store: ObjectStore, playbackId: string, renditions: readonly string[], policy?: TakeUpPolicy): Promise<StoredStream> {
  const result: StoredStream = { renditions: [], clocks: new Map(), announced: false };
  const playlists: { name: string; playlist: MediaPlaylist }[] = [];
  for (const name of renditions) {
    const stored = await store.get(streamObjectKey(playbackId, { kind: 'media-playlist', rendition: name }));
    if (stored) playlists.push({ name, playlist: parseMediaPlaylist(await new Response(stored.body).text()) });
  }
  // One decision for the stream (its renditions are taken up together or not at all).
  const live = playlists.filter(({ playlist }) => !playlist.ended);
  const newest = Math.max(...live.map(({ playlist }) => newestMediaEnd(playlist) ?? Number.NEGATIVE_INFINITY));
  const takeUp = live.length > 0 && continuesStoredBroadcast(Number.isFinite(newest) ? newest : undefined, policy?.now ?? Date.now(), policy?.reconnectWindowMs);
  result.takenOver = takeUp && policy?.reconnectWindowMs !== undefined;
  for (const { name, playlist } of playlists) {
    const rendition: StoredRendition = { name, nextSequence: playlist.mediaSequence + playlist.segments.length, tracks: new Map() };
    result.renditions.push(rendition);
    if (playlist.ended || !takeUp) continue;
    if (playlist.segments.length > 0) result.announced = true;
    const segments: ListedSegment[] = [];
    for (const [index, segment] of playlist.segments.entries()) {
      const { session, time } = segmentName(segment.uri);
      const initSession = initSessionOf(segment.initUri);
      const track = await readTrack(store, playbackId, name, initSession, rendition.tracks);
      // A session listed before this sidecar: its clock, once, from its first segment still listed.
      if (track && !segment.gap && !result.clocks.has(session)) result.clocks.set(session, segment.programDateTime - (time / track.timescale) * 1000);
      segments.push({
        ...segment,
        sequence: playlist.mediaSequence + index,
        session,
        initSession,
        time,
        ticks: track ? Math.round(segment.duration * track.timescale) : 0,
      });
    }
    // EXTINF is rounded to the millisecond: where the next segment of the same session follows,
    // its name gives the exact duration (DASH addresses segments by these times); the last one's
    // comes from its own fragments (the name of what follows it is derived from its end).
    for (const [index, segment] of segments.entries()) {
      const next = segments[index + 1];
      if (next && next.session === segment.session && !next.gap && !segment.gap && next.time > segment.time) segment.ticks = next.time - segment.time;
    }
    const last = segments.at(-1);
    const lastTrack = last && rendition.tracks.get(last.initSession);
    if (last && !last.gap && lastTrack) last.ticks = (await readSegmentEnd(store, playbackId, name, last, lastTrack)) - last.time || last.ticks;
    rendition.live = { segments, discontinuitySequence: playlist.discontinuitySequence, targetDuration: playlist.targetDuration };
  }
  return result;
}

/** Where a stored segment's media ends (track timescale): the end of its last fragment; its start when unreadable. */
async function readSegmentEnd(store: ObjectStore, playbackId: string, rendition: string, segment: ListedSegment, track: CmafTrack): Promise<number> {
  const stored = await store.get(streamObjectKey(playbackId, { kind: 'segment', rendition, session: segment.session, time: segment.time }));
  if (!stored) return segment.time;
  const bytes = new Uint8Array(await new Response(stored.body).arrayBuffer());
  let end = segment.time;
  try {
    for (const box of childBoxes(bytes, 0, bytes.length)) {
      if (box.type !== 'moof') continue;
      const timing = parseFragmentTiming(bytes.subarray(box.start, box.end), track);
      end = Math.max(end, timing.baseMediaDecodeTime + timing.duration);
    }
  } catch {
    // A segment that does not parse keeps the duration its EXTINF gives.
    return segment.time;
  }
  return end;
}

/** The track of a session listed before this sidecar, from its stored init segment. */
async function readTrack(store: ObjectStore, playbackId: string, rendition: string, session: string, tracks: Map<string, CmafTrack>): Promise<CmafTrack | undefined> {
  if (tracks.has(session)) return tracks.get(session);
  const init = await store.get(streamObjectKey(playbackId, { kind: 'init', rendition, session }));
  if (!init) return undefined;
  const track = parseCmafInitSegment(new Uint8Array(await new Response(init.body).arrayBuffer()));
  tracks.set(session, track);
  return track;
}

/**
 * Hands what storage held to the live window (numbering goes on from the furthest rendition),
 * the renditions (their stored init segments) and the session clocks; true if viewers were told
 * the stream is live.
 */
export function takeUpStoredStream(stored: StoredStream, window: LiveWindow, renditions: ReadonlyMap<string, RenditionOutput>, clocks: Map<string, number>): boolean {
  for (const rendition of stored.renditions) {
    const output = renditions.get(rendition.name)!;
    for (const [session, track] of rendition.tracks) output.tracks.set(session, track);
    output.track ??= rendition.tracks.values().next().value;
    window.takeUp(rendition.name, rendition.nextSequence, rendition.live);
  }
  for (const [session, clock] of stored.clocks) if (!clocks.has(session)) clocks.set(session, clock);
  window.numberFromTakenUp();
  return stored.announced;
}
