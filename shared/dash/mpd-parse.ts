/**
 * Reads back the MPDs renderMpd (mpd.ts) writes: the edge ends a live MPD whose sidecar is gone
 * (parsed, made static, rendered again). Pure; only renderMpd's elements and attributes are read.
 */
import { parseIsoDurationSeconds, type DashAdaptationSet, type DashManifest, type DashPeriod, type DashRepresentation } from './mpd.ts';

/** An MPD renderMpd did not write (or a damaged one): what parseMpd could not read. */
export class MpdParseError extends Error {
  override name = 'MpdParseError';
}

function unescapeXml(value: string): string {
  return value.replaceAll('&lt;', '<').replaceAll('&quot;', '"').replaceAll('&amp;', '&');
}

/** The manifest of an MPD written by renderMpd; anything it needs and cannot find throws MpdParseError. */
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
