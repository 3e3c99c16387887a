/**
 * hls.js's start-up, track by track, from the measuring page's records (`latency-page.ts`): what
 * it loaded between its first media playlist and its first seek.
 *
 * Why these pieces (hls.js 1.7, low-latency mode): it fixes its start position (its live edge
 * minus PART-HOLD-BACK) when the first media playlist arrives, then loads a segment's parts one
 * request after another (`doFragPartsLoad`), from the segment's independent part up to the newest
 * part listed (or the segment's end), so the run chases the live edge. Only when such a run is
 * buffered (FRAG_BUFFERED) and both tracks overlap does it seek to the start position; the audio
 * track starts loading only once the video's first part gave it a timeline. At 1x, every
 * millisecond of this stays in the latency.
 */
import type { FragmentLoad, PageReport } from './latency-page.ts';

export interface TrackStartup {
  /** The init segment: from hls.js asking for it to the track's next request (it sends that once the init arrived). */
  initMs: number | null;
  /** Fragments and parts whose request was sent before the first seek. */
  requests: number;
  firstSent: number | null;
  lastDone: number | null;
  /** Those requests' time from sent to done (ms). */
  requestMs: { median: number; max: number } | null;
  /**
   * Those requests' wait for the first byte on the network (Resource Timing, ms), where the page
   * recorded it: beside `requestMs` it says whether a slow request was the server's answer or the page.
   */
  firstByteMs: { median: number; max: number } | null;
}

export interface StartupBreakdown {
  /** Ms after loadSource: the first media playlist, the first seek, the first frame played. */
  firstLevelAt: number | null;
  seekAt: number | null;
  playingAt: number | null;
  main: TrackStartup;
  audio: TrackStartup;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function trackStartup(loads: FragmentLoad[], type: string, seekAt: number | null): TrackStartup {
  const track = loads.filter((load) => load.type === type);
  const init = track.find((load) => load.sn === 'initSegment');
  const media = track.filter((load) => load.sn !== 'initSegment' && load.sent !== null && (seekAt === null || load.sent <= seekAt));
  const afterInit = init?.requestedAt == null ? undefined : media.find((load) => load.sent! >= init.requestedAt!);
  const durations = media.flatMap((load) => (load.done === null ? [] : [load.done - load.sent!]));
  const firstBytes = media.flatMap((load) => (load.firstByte == null ? [] : [load.firstByte]));
  return {
    initMs: init?.requestedAt != null && afterInit ? afterInit.sent! - init.requestedAt : null,
    requests: media.length,
    firstSent: media.length > 0 ? Math.min(...media.map((load) => load.sent!)) : null,
    lastDone: durations.length > 0 ? Math.max(...media.flatMap((load) => (load.done === null ? [] : [load.done]))) : null,
    requestMs: durations.length > 0 ? { median: median(durations), max: Math.max(...durations) } : null,
    firstByteMs: firstBytes.length > 0 ? { median: median(firstBytes), max: Math.max(...firstBytes) } : null,
  };
}

export function startupBreakdown(report: Pick<PageReport, 'loads' | 'firstLevelAt' | 'seekAt' | 'startup'>): StartupBreakdown {
  const loads = report.loads ?? [];
  return {
    firstLevelAt: report.firstLevelAt ?? null,
    seekAt: report.seekAt ?? null,
    playingAt: report.startup?.playingAfterMs ?? null,
    main: trackStartup(loads, 'main', report.seekAt ?? null),
    audio: trackStartup(loads, 'audio', report.seekAt ?? null),
  };
}

const ms = (value: number | null) => (value === null ? '?' : `${Math.round(value)}`);

function trackText(name: string, track: TrackStartup): string {
  if (track.requests === 0) return `${name}: nothing loaded before the seek`;
  const firstByte = track.firstByteMs ? `, first byte ${ms(track.firstByteMs.median)} ms on the network (max ${ms(track.firstByteMs.max)})` : '';
  const requestMs = track.requestMs ? `, each ${ms(track.requestMs.median)} ms (median; max ${ms(track.requestMs.max)})${firstByte}` : '';
  return `${name}: init ${ms(track.initMs)} ms, then ${track.requests} requests one after another from ${ms(track.firstSent)} to ${ms(track.lastDone)} ms${requestMs}`;
}

/** One line: where hls.js's start-up went (ms after loadSource). */
export function startupText(breakdown: StartupBreakdown): string {
  const kept = breakdown.firstLevelAt !== null && breakdown.playingAt !== null ? ` (${ms(breakdown.playingAt - breakdown.firstLevelAt)} ms from the first media playlist to the first frame)` : '';
  return (
    `first media playlist at ${ms(breakdown.firstLevelAt)} ms; ${trackText('video', breakdown.main)}; ${trackText('audio', breakdown.audio)}; ` +
    `seek at ${ms(breakdown.seekAt)} ms, first frame at ${ms(breakdown.playingAt)} ms${kept}`
  );
}
