/**
 * DASH MPDs as data, over the same CMAF segments as the HLS playlists: a pure renderer.
 *
 * One Period per publish session (a reconnect or an encoder restart starts a new Period), a
 * SegmentTemplate + SegmentTimeline per AdaptationSet addressing segments by `$Time$` (their
 * names carry their media time). availabilityStartTime is the epoch, so a Period's start is its
 * ingest wall clock and stays the same in every version of a live MPD, even across restarts.
 * A live MPD tells players where to read the server's clock (UTCTiming), which the epoch
 * timeline makes as important as the segments: a player's clock decides what it thinks is live.
 */

export interface TimelineSegment {
  /** Media time of the first sample, track timescale. */
  time: number;
  /** Track timescale units. */
  duration: number;
}

/**
 * One rendition. Each has its own SegmentTemplate: renditions share segment boundaries but not
 * timescales (a passed-through source keeps its own), so their `$Time$` values differ.
 */
export interface DashRepresentation {
  id: string;
  bandwidth: number;
  codecs: string;
  width?: number;
  height?: number;
  frameRate?: number;
  audioSamplingRate?: number;
  channels?: number;
  timescale: number;
  /** Media time shown at the Period's start. */
  presentationTimeOffset: number;
  initialization: string;
  /** A URL template with `$Time$`. */
  media: string;
  segments: TimelineSegment[];
}

/** Every rendition of one content type: a player switches between the representations of a set. */
export interface DashAdaptationSet {
  contentType: 'video' | 'audio';
  representations: DashRepresentation[];
}

export interface DashPeriod {
  id: string;
  /** Seconds since availabilityStartTime (for a dynamic MPD, the epoch). */
  start: number;
  adaptationSets: DashAdaptationSet[];
}

export interface DashManifest {
  /** `dynamic` while live, `static` once ended. */
  type: 'dynamic' | 'static';
  /**
   * What Period starts count from. `wall-clock`: seconds since the epoch, the live stream's MPD
   * in every version, the static one after it ended included (dash.js, given a timeline moved by
   * decades in the update that ends the stream, empties its buffer and never plays the end).
   * `first-period`: the first Period starts at 0 (a recording: a VOD timeline from its start).
   */
  timeline: 'wall-clock' | 'first-period';
  /** Epoch milliseconds. */
  publishTime: number;
  /** Seconds. */
  minimumUpdatePeriod: number;
  timeShiftBufferDepth: number;
  suggestedPresentationDelay: number;
  maxSegmentDuration: number;
  minBufferTime: number;
  /**
   * A URL answering the current time in ISO 8601, uncached (UTCTiming http-iso); relative URLs
   * resolve against the MPD's. Without one, players only have the clock written in the MPD.
   */
  timeUrl?: string;
  periods: DashPeriod[];
}

function isoDuration(seconds: number): string {
  return `PT${Number(seconds.toFixed(3))}S`;
}

function xmlAttribute(value: string): string {
  return value.replaceAll('&', '&amp;').replaceAll('"', '&quot;').replaceAll('<', '&lt;');
}

function attributes(values: Record<string, string | number | undefined>): string {
  return Object.entries(values)
    .filter(([, value]) => value !== undefined)
    .map(([name, value]) => ` ${name}="${xmlAttribute(String(value))}"`)
    .join('');
}

/** `<S>` elements: runs of equal, back-to-back durations become one element with a repeat count. */
function timeline(segments: readonly TimelineSegment[]): string[] {
  const lines: string[] = [];
  let index = 0;
  let expectedTime: number | undefined;
  while (index < segments.length) {
    const first = segments[index]!;
    let repeat = 0;
    while (
      index + repeat + 1 < segments.length &&
      segments[index + repeat + 1]!.duration === first.duration &&
      segments[index + repeat + 1]!.time === segments[index + repeat]!.time + first.duration
    ) {
      repeat += 1;
    }
    // t only where the timeline does not simply continue (the start, and after a gap).
    const t = expectedTime === first.time ? undefined : first.time;
    lines.push(`<S${attributes({ t, d: first.duration, r: repeat > 0 ? repeat : undefined })}/>`);
    index += repeat + 1;
    expectedTime = first.time + first.duration * (repeat + 1);
  }
  return lines;
}

function adaptationSet(set: DashAdaptationSet): string[] {
  const isVideo = set.contentType === 'video';
  const heights = set.representations.flatMap((r) => (r.height === undefined ? [] : [r.height]));
  return [
    `<AdaptationSet${attributes({
      contentType: set.contentType,
      mimeType: isVideo ? 'video/mp4' : 'audio/mp4',
      segmentAlignment: 'true',
      startWithSAP: 1,
      maxHeight: heights.length > 0 ? Math.max(...heights) : undefined,
    })}>`,
    ...set.representations.flatMap(representation),
    '</AdaptationSet>',
  ];
}

function representation(r: DashRepresentation): string[] {
  return [
    `<Representation${attributes({
      id: r.id,
      bandwidth: Math.round(r.bandwidth),
      codecs: r.codecs,
      width: r.width,
      height: r.height,
      frameRate: r.frameRate === undefined ? undefined : Number(r.frameRate.toFixed(3)),
      audioSamplingRate: r.audioSamplingRate,
    })}>`,
    ...(r.channels
      ? [`<AudioChannelConfiguration${attributes({ schemeIdUri: 'urn:mpeg:dash:23003:3:audio_channel_configuration:2011', value: r.channels })}/>`]
      : []),
    `<SegmentTemplate${attributes({ timescale: r.timescale, presentationTimeOffset: r.presentationTimeOffset, initialization: r.initialization, media: r.media })}>`,
    '<SegmentTimeline>',
    ...timeline(r.segments),
    '</SegmentTimeline>',
    '</SegmentTemplate>',
    '</Representation>',
  ];
}

/**
 * Where a player reads the time, in order of preference. The time server first: the MPD's own
 * `direct` time is its publishTime, which is already old when the MPD comes from a cache (up to
 * max-age + stale-while-revalidate), so a player syncing on it runs late by a varying amount.
 * `direct` stays as the fallback for a player that cannot reach the time URL.
 */
function utcTimings(manifest: DashManifest): string[] {
  const direct = `<UTCTiming${attributes({ schemeIdUri: 'urn:mpeg:dash:utc:direct:2014', value: new Date(manifest.publishTime).toISOString() })}/>`;
  if (manifest.timeUrl === undefined) return [direct];
  return [`<UTCTiming${attributes({ schemeIdUri: 'urn:mpeg:dash:utc:http-iso:2014', value: manifest.timeUrl })}/>`, direct];
}

export function renderMpd(manifest: DashManifest): string {
  const live = manifest.type === 'dynamic';
  const firstStart = manifest.periods[0]?.start ?? 0;
  const end = Math.max(
    firstStart,
    ...manifest.periods.flatMap((period) =>
      period.adaptationSets.flatMap((set) =>
        set.representations.map((r) => {
          const last = r.segments.at(-1);
          return last ? period.start + (last.time + last.duration - r.presentationTimeOffset) / r.timescale : period.start;
        }),
      ),
    ),
  );
  const offset = manifest.timeline === 'first-period' ? firstStart : 0;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<MPD${attributes({
      xmlns: 'urn:mpeg:dash:schema:mpd:2011',
      profiles: 'urn:mpeg:dash:profile:isoff-live:2011',
      type: manifest.type,
      availabilityStartTime: live ? '1970-01-01T00:00:00Z' : undefined,
      publishTime: new Date(manifest.publishTime).toISOString(),
      minimumUpdatePeriod: live ? isoDuration(manifest.minimumUpdatePeriod) : undefined,
      timeShiftBufferDepth: live ? isoDuration(manifest.timeShiftBufferDepth) : undefined,
      suggestedPresentationDelay: live ? isoDuration(manifest.suggestedPresentationDelay) : undefined,
      mediaPresentationDuration: live ? undefined : isoDuration(end - offset),
      maxSegmentDuration: isoDuration(manifest.maxSegmentDuration),
      minBufferTime: isoDuration(manifest.minBufferTime),
    })}>`,
  ];
  for (const period of manifest.periods) {
    lines.push(`<Period${attributes({ id: period.id, start: isoDuration(period.start - offset) })}>`);
    for (const set of period.adaptationSets) lines.push(...adaptationSet(set));
    lines.push('</Period>');
  }
  if (live) lines.push(...utcTimings(manifest));
  lines.push('</MPD>');
  return lines.join('\n') + '\n';
}

/** What the edge needs to know of an MPD to cache it: the same facts as summarizeMediaPlaylist. */
export interface MpdSummary {
  /** Whole seconds, rounded up from maxSegmentDuration (as EXT-X-TARGETDURATION is). */
  targetDuration: number | undefined;
  /** A static MPD: the stream ended and this is VOD now. */
  ended: boolean;
}

// ISO 8601 durations as MPDs write them (hours, minutes, seconds; no dates).
const ISO_DURATION = /^PT(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?$/;

/** Seconds of an ISO 8601 duration as MPDs write them, or undefined when it is not one. */
export function parseIsoDurationSeconds(value: string | undefined): number | undefined {
  const match = value === undefined ? null : ISO_DURATION.exec(value);
  if (!match || value === 'PT') return undefined;
  const [, hours = '0', minutes = '0', seconds = '0'] = match;
  return Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds);
}

/** Reads the MPD element's own attributes only: fast for an MPD of any length. */
export function summarizeMpd(text: string): MpdSummary {
  const element = /<MPD\b[^>]*>/.exec(text)?.[0] ?? '';
  const attribute = (name: string) => new RegExp(`\\s${name}="([^"]*)"`).exec(element)?.[1];
  const maxSegment = parseIsoDurationSeconds(attribute('maxSegmentDuration'));
  return {
    targetDuration: maxSegment === undefined ? undefined : Math.ceil(maxSegment),
    ended: attribute('type') === 'static',
  };
}


