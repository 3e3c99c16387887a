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

function parseIsoDurationSeconds(value: string | undefined): number | undefined {
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


/** An MPD this module did not write (or a damaged one): what parseMpd could not read. */
export class MpdParseError extends Error {
  override name = 'MpdParseError';
}

function unescapeXml(value: string): string {
  return value.replaceAll('&lt;', '<').replaceAll('&quot;', '"').replaceAll('&amp;', '&');
}

/**
 * Reads back an MPD written by renderMpd (the edge ends a live MPD whose sidecar is gone: parsed,
 * made static, rendered again). Only renderMpd's elements and attributes are read; anything it
 * needs and cannot find throws MpdParseError.
 */
export function parseMpd(text: string): DashManifest {
  const seconds = (value: string | undefined, what: string): number => {
    const parsed = parseIsoDurationSeconds(value);
    if (parsed === undefined) throw new MpdParseError(`${what} is not a duration: ${JSON.stringify(value)}`);
    return parsed;
  };
  const count = (value: string | undefined, what: string): number => {
    const parsed = Number(value);
    if (value === undefined || !Number.isFinite(parsed)) throw new MpdParseError(`${what} is not a number: ${JSON.stringify(value)}`);
    return parsed;
  };
  const optionalCount = (value: string | undefined, what: string) => (value === undefined ? undefined : count(value, what));
  let manifest: DashManifest | undefined;
  let period: DashPeriod | undefined;
  let set: DashAdaptationSet | undefined;
  let current: DashRepresentation | undefined;
  let nextTime: number | undefined;
  for (const tag of text.matchAll(/<(\/?)([A-Za-z]+)((?:\s+[A-Za-z:]+="[^"]*")*)\s*(\/?)>/g)) {
    const [, closing, name, attributeText = ''] = tag;
    if (closing) continue;
    const attributes = new Map([...attributeText.matchAll(/([A-Za-z:]+)="([^"]*)"/g)].map(([, key, value]) => [key!, unescapeXml(value!)]));
    const attribute = (key: string) => attributes.get(key);
    switch (name) {
      case 'MPD': {
        const type = attribute('type');
        if (type !== 'dynamic' && type !== 'static') throw new MpdParseError(`MPD type ${JSON.stringify(type)}`);
        const publishTime = Date.parse(attribute('publishTime') ?? '');
        if (!Number.isFinite(publishTime)) throw new MpdParseError('MPD without a publishTime');
        const live = type === 'dynamic';
        manifest = {
          type,
          // A live MPD counts from the epoch; a static one from its first Period when that starts at 0 (a recording).
          timeline: live ? 'wall-clock' : 'first-period',
          publishTime,
          minimumUpdatePeriod: live ? seconds(attribute('minimumUpdatePeriod'), 'minimumUpdatePeriod') : 0,
          timeShiftBufferDepth: live ? seconds(attribute('timeShiftBufferDepth'), 'timeShiftBufferDepth') : 0,
          suggestedPresentationDelay: live ? seconds(attribute('suggestedPresentationDelay'), 'suggestedPresentationDelay') : 0,
          maxSegmentDuration: seconds(attribute('maxSegmentDuration'), 'maxSegmentDuration'),
          minBufferTime: seconds(attribute('minBufferTime'), 'minBufferTime'),
          periods: [],
        };
        break;
      }
      case 'Period':
        if (!manifest) throw new MpdParseError('a Period outside an MPD');
        period = { id: attribute('id') ?? '', start: seconds(attribute('start'), 'Period start'), adaptationSets: [] };
        manifest.periods.push(period);
        break;
      case 'AdaptationSet': {
        const contentType = attribute('contentType');
        if (!period || (contentType !== 'video' && contentType !== 'audio')) throw new MpdParseError(`an AdaptationSet of ${JSON.stringify(contentType)} outside a Period`);
        set = { contentType, representations: [] };
        period.adaptationSets.push(set);
        break;
      }
      case 'Representation': {
        if (!set) throw new MpdParseError('a Representation outside an AdaptationSet');
        const optional = {
          width: optionalCount(attribute('width'), 'width'),
          height: optionalCount(attribute('height'), 'height'),
          frameRate: optionalCount(attribute('frameRate'), 'frameRate'),
          audioSamplingRate: optionalCount(attribute('audioSamplingRate'), 'audioSamplingRate'),
        };
        current = {
          id: attribute('id') ?? '',
          bandwidth: count(attribute('bandwidth'), 'bandwidth'),
          codecs: attribute('codecs') ?? '',
          ...Object.fromEntries(Object.entries(optional).filter(([, value]) => value !== undefined)),
          timescale: 0,
          presentationTimeOffset: 0,
          initialization: '',
          media: '',
          segments: [],
        };
        set.representations.push(current);
        break;
      }
      case 'AudioChannelConfiguration':
        if (current) current.channels = count(attribute('value'), 'channels');
        break;
      case 'SegmentTemplate':
        if (!current) throw new MpdParseError('a SegmentTemplate outside a Representation');
        current.timescale = count(attribute('timescale'), 'timescale');
        current.presentationTimeOffset = optionalCount(attribute('presentationTimeOffset'), 'presentationTimeOffset') ?? 0;
        current.initialization = attribute('initialization') ?? '';
        current.media = attribute('media') ?? '';
        nextTime = undefined;
        break;
      case 'S': {
        if (!current) throw new MpdParseError('an S outside a SegmentTimeline');
        const duration = count(attribute('d'), 'S@d');
        let time = optionalCount(attribute('t'), 'S@t') ?? nextTime;
        if (time === undefined) throw new MpdParseError('the first S has no t');
        for (let repeat = optionalCount(attribute('r'), 'S@r') ?? 0; repeat >= 0; repeat--) {
          current.segments.push({ time, duration });
          time += duration;
        }
        nextTime = time;
        break;
      }
      case 'UTCTiming':
        if (manifest && attribute('schemeIdUri') === 'urn:mpeg:dash:utc:http-iso:2014') manifest.timeUrl = attribute('value');
        break;
    }
  }
  if (!manifest) throw new MpdParseError('no MPD element');
  // A static MPD whose first Period does not start at 0 is a live stream's, ended: its Periods keep their wall-clock starts.
  if (manifest.type === 'static' && (manifest.periods[0]?.start ?? 0) !== 0) manifest.timeline = 'wall-clock';
  return manifest;
}
