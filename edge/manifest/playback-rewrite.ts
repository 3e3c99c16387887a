/**
 * Per-request rewriting of the canonical manifests the sidecar writes, as pure functions: the
 * viewer's playback token carried to every child URI, segment URIs pointed at a CDN base URL,
 * renditions filtered by height (the audio group kept), a live playlist trimmed to a DVR window,
 * an ended stream served as VOD. The multivariant playlist goes through its parsed model; media
 * playlists are rewritten as lines, from the end for a DVR window, because a 4-hour playlist
 * (7 200 segments) must be rewritten per request in a couple of milliseconds of Worker CPU
 * (`npm run bench:edge`); the MPD by editing the attributes our own MPDs carry.
 */
import type { MultivariantPlaylist } from '../../shared/hls/multivariant-playlist.ts';
import { PLAYBACK_TOKEN_PARAM } from '../../shared/playback-token.ts';
import { headerNumber, setHeaderTag } from './playlist-header.ts';

/** What a viewer may ask for in the query string of a manifest or segment URL. */
export interface PlaybackQuery {
  token?: string;
  /** Only renditions at most this tall (the shortest one when none is). */
  maxHeight?: number;
  /** Seconds of a live playlist to list, from the live edge back. */
  dvrSeconds?: number;
}

export type QueryParse = { ok: true; query: PlaybackQuery } | { ok: false; reason: string };

const TOKEN_TEXT = /^[A-Za-z0-9._-]{1,256}$/;
const WHOLE_NUMBER = /^\d{1,6}$/;
// A live playlist shorter than three target durations is one players may refuse (RFC 8216, 6.2.2).
const MIN_LIVE_SEGMENTS = 3;

/** Reads the parameters this edge understands; a malformed one is refused, unknown ones are left to others (cache busters). */
export function parsePlaybackQuery(params: URLSearchParams): QueryParse {
  const query: PlaybackQuery = {};
  const single = (name: string): string | undefined | { error: string } => {
    const values = params.getAll(name);
    if (values.length > 1) return { error: `"${name}" may appear once` };
    return values[0];
  };
  const token = single(PLAYBACK_TOKEN_PARAM);
  if (typeof token === 'object') return { ok: false, reason: token.error };
  if (token !== undefined) {
    if (!TOKEN_TEXT.test(token)) return { ok: false, reason: `"${PLAYBACK_TOKEN_PARAM}" must be 1-256 letters, digits, ".", "_" or "-"` };
    query.token = token;
  }
  const number = (name: string, min: number, max: number): number | undefined | { error: string } => {
    const value = single(name);
    if (value === undefined || typeof value === 'object') return value;
    const parsed = WHOLE_NUMBER.test(value) ? Number(value) : Number.NaN;
    if (!(parsed >= min && parsed <= max)) return { error: `"${name}" must be a whole number from ${min} to ${max}` };
    return parsed;
  };
  const maxHeight = number('max_height', 1, 4320);
  if (typeof maxHeight === 'object') return { ok: false, reason: maxHeight.error };
  if (maxHeight !== undefined) query.maxHeight = maxHeight;
  const dvr = number('dvr', 1, 86_400);
  if (typeof dvr === 'object') return { ok: false, reason: dvr.error };
  if (dvr !== undefined) query.dvrSeconds = dvr;
  return { ok: true, query };
}

/** Adds query parameters to a URI, after any it already has. */
export function withParameters(uri: string, parameters: ReadonlyArray<readonly [string, string]>): string {
  if (parameters.length === 0) return uri;
  const search = new URLSearchParams(parameters.map(([name, value]) => [name, value])).toString();
  return `${uri}${uri.includes('?') ? '&' : '?'}${search}`;
}

/** What a child playlist needs of the viewer's query: the token and the DVR window. */
function playlistParameters(query: PlaybackQuery): Array<[string, string]> {
  const parameters: Array<[string, string]> = [];
  if (query.token !== undefined) parameters.push([PLAYBACK_TOKEN_PARAM, query.token]);
  if (query.dvrSeconds !== undefined) parameters.push(['dvr', String(query.dvrSeconds)]);
  return parameters;
}

/** What a page hands its top manifest (HLS multivariant or MPD): everything the viewer asked that shapes playback. */
export function manifestParameters(query: PlaybackQuery): Array<[string, string]> {
  const parameters = playlistParameters(query);
  if (query.maxHeight !== undefined) parameters.push(['max_height', String(query.maxHeight)]);
  return parameters;
}

/** What a segment needs: the token only (its bytes do not depend on the rest). */
export function segmentParameters(query: PlaybackQuery): Array<[string, string]> {
  return query.token === undefined ? [] : [[PLAYBACK_TOKEN_PARAM, query.token]];
}

export function rewriteMultivariant(playlist: MultivariantPlaylist, query: PlaybackQuery): MultivariantPlaylist {
  let variants = playlist.variants;
  if (query.maxHeight !== undefined) {
    const fitting = variants.filter((variant) => (variant.resolution?.height ?? 0) <= query.maxHeight!);
    // Nothing short enough: the shortest there is, rather than a stream that cannot play.
    const shortest = [...variants].sort((a, b) => (a.resolution?.height ?? 0) - (b.resolution?.height ?? 0))[0];
    variants = fitting.length > 0 ? fitting : shortest ? [shortest] : [];
  }
  const parameters = playlistParameters(query);
  return {
    audio: playlist.audio.map((audio) => ({ ...audio, uri: withParameters(audio.uri, parameters) })),
    variants: variants.map((variant) => ({ ...variant, uri: withParameters(variant.uri, parameters) })),
  };
}

export interface MediaRewriteOptions {
  /** Where this playlist's segments are fetched from instead of beside it (a CDN), ending in `/`. */
  segmentBaseUrl?: string;
}

/**
 * A media playlist's text, rewritten for one viewer: trimmed to the DVR window while live (the
 * media sequence and discontinuity sequence moved on as when the window slides), served as VOD
 * once ended, every segment and init segment URI located (CDN base) and carrying the token.
 */
export function rewriteMediaPlaylist(text: string, query: PlaybackQuery, options: MediaRewriteOptions = {}): string {
  const ended = /^#EXT-X-ENDLIST\s*$/m.test(text.slice(-64));
  const source = !ended && query.dvrSeconds !== undefined ? trimToWindow(text, query.dvrSeconds) : text;
  const parameters = segmentParameters(query);
  const markVod = ended && !source.includes('#EXT-X-PLAYLIST-TYPE:');
  if (parameters.length === 0 && !options.segmentBaseUrl && !markVod) return source;
  let rewritten = source;
  if (markVod) {
    const sequence = rewritten.indexOf('#EXT-X-MEDIA-SEQUENCE:');
    const at = sequence >= 0 ? rewritten.indexOf('\n', sequence) + 1 : rewritten.indexOf('\n') + 1;
    rewritten = `${rewritten.slice(0, at)}#EXT-X-PLAYLIST-TYPE:VOD\n${rewritten.slice(at)}`;
  }
  if (parameters.length > 0 || options.segmentBaseUrl) {
    // The query string once, not per URI: a long playlist has thousands of them.
    const search = parameters.length > 0 ? new URLSearchParams(parameters).toString() : '';
    const base = options.segmentBaseUrl ?? '';
    const siblingParameters = playlistParameters(query);
    rewritten = rewriteUriLines(
      rewritten,
      (uri) => (search === '' ? base + uri : `${base}${uri}${uri.includes('?') ? '&' : '?'}${search}`),
      // Rendition reports name other playlists of this origin: the viewer's playlist parameters, no CDN base.
      (uri) => withParameters(uri, siblingParameters),
    );
  }
  return rewritten;
}

// Tags whose URI attribute names media (located like segments) or another playlist.
const MEDIA_URI_TAGS = ['#EXT-X-MAP:', '#EXT-X-PART:', '#EXT-X-PRELOAD-HINT:'];
const PLAYLIST_URI_TAG = '#EXT-X-RENDITION-REPORT:';

/**
 * Rewrites every URI line and URI attribute of a playlist in one scan, copying everything else
 * as it is (string concatenation in V8 builds ropes: far cheaper than split, map and join).
 */
function rewriteUriLines(text: string, locate: (uri: string) => string, locatePlaylist: (uri: string) => string): string {
  let out = '';
  let position = 0;
  while (position < text.length) {
    let end = text.indexOf('\n', position);
    if (end < 0) end = text.length;
    const lineEnd = text.charCodeAt(end - 1) === 13 /* \r */ ? end - 1 : end;
    if (lineEnd > position && text.charCodeAt(position) !== 35 /* # */) {
      out += locate(text.slice(position, lineEnd)) + text.slice(lineEnd, end + 1);
    } else if (MEDIA_URI_TAGS.some((tag) => text.startsWith(tag, position))) {
      out += text.slice(position, lineEnd).replace(/URI="([^"]*)"/, (_, uri: string) => `URI="${locate(uri)}"`) + text.slice(lineEnd, end + 1);
    } else if (text.startsWith(PLAYLIST_URI_TAG, position)) {
      out += text.slice(position, lineEnd).replace(/URI="([^"]*)"/, (_, uri: string) => `URI="${locatePlaylist(uri)}"`) + text.slice(lineEnd, end + 1);
    } else {
      out += text.slice(position, end + 1);
    }
    position = end + 1;
  }
  return out;
}

const SEGMENT_TAG_LINE = /^#(?:EXTINF:|EXT-X-PROGRAM-DATE-TIME:|EXT-X-MAP:|EXT-X-DISCONTINUITY$|EXT-X-GAP$|EXT-X-BYTERANGE:)/m;

/** Lines of `text` between two offsets that are exactly `tag` (or start with it, for a tag with a value). */
function countTags(text: string, tag: string, from: number, to: number): number {
  let found = 0;
  for (let at = text.indexOf(tag, from); at >= 0 && at < to; at = text.indexOf(tag, at + tag.length)) {
    const next = text.charCodeAt(at + tag.length);
    // 10 and 13: the line ends there; a tag with a value (ending in ':') always matches.
    if (tag.endsWith(':') || next === 10 || next === 13) found += 1;
  }
  return found;
}

/**
 * A live playlist cut to its last `seconds` (at least three segments), working from the end of
 * the text: a long playlist is mostly skipped, not parsed. The media sequence and discontinuity
 * sequence move on as when the window slides, and the first segment left keeps its EXT-X-MAP.
 */
export function trimToWindow(text: string, seconds: number): string {
  let position = text.length;
  let total = 0;
  let kept = 0;
  let droppedExtinf = -1;
  for (;;) {
    const at = text.lastIndexOf('\n#EXTINF:', position - 1);
    // lastIndexOf from -1 searches from 0 again: without this, a playlist starting with that line never ends the loop.
    if (at < 0 || at >= position) break;
    total += Number.parseFloat(text.slice(at + 9, at + 40));
    if (total > seconds && kept >= MIN_LIVE_SEGMENTS) {
      droppedExtinf = at;
      break;
    }
    kept += 1;
    position = at;
  }
  if (droppedExtinf < 0) return text;
  // The cut falls after the dropped segment's URI line (the first line after its EXTINF not starting with #).
  let cut = text.indexOf('\n', droppedExtinf + 1);
  while (cut >= 0 && text.charCodeAt(cut + 1) === 35 /* # */) cut = text.indexOf('\n', cut + 1);
  cut = text.indexOf('\n', cut + 1);
  if (cut < 0) return text;
  const firstSegmentTag = SEGMENT_TAG_LINE.exec(text)?.index ?? cut + 1;
  const header = text.slice(0, firstSegmentTag).split('\n').map((line) => line.replace(/\r$/, '')).filter((line) => line !== '');
  const droppedSegments = countTags(text, '#EXTINF:', firstSegmentTag, cut);
  const droppedDiscontinuities = countTags(text, '#EXT-X-DISCONTINUITY', firstSegmentTag, cut);
  setHeaderTag(header, '#EXT-X-MEDIA-SEQUENCE', String((headerNumber(header, '#EXT-X-MEDIA-SEQUENCE') ?? 0) + droppedSegments), '#EXT-X-TARGETDURATION');
  if (droppedDiscontinuities > 0) {
    setHeaderTag(header, '#EXT-X-DISCONTINUITY-SEQUENCE', String((headerNumber(header, '#EXT-X-DISCONTINUITY-SEQUENCE') ?? 0) + droppedDiscontinuities), '#EXT-X-MEDIA-SEQUENCE');
  }
  const tail = text.slice(cut + 1);
  const firstUri = tail.search(/^[^#\r\n]/m);
  const firstBlock = firstUri < 0 ? tail : tail.slice(0, firstUri);
  const mapAt = text.lastIndexOf('#EXT-X-MAP:', cut);
  const map = !firstBlock.includes('#EXT-X-MAP:') && mapAt >= 0 ? text.slice(mapAt, text.indexOf('\n', mapAt)) + '\n' : '';
  return header.join('\n') + '\n' + map + tail;
}

/**
 * The DASH MPD, rewritten in its text: the sidecar's MPD has a known shape (one SegmentTemplate
 * per Representation, heights on Representations), so the edge changes exactly the attributes
 * that matter instead of re-serializing XML.
 */
export function rewriteMpd(text: string, query: PlaybackQuery, options: MediaRewriteOptions = {}): string {
  let mpd = text;
  if (query.maxHeight !== undefined) {
    const representations = [...mpd.matchAll(/<Representation\b[^>]*\bheight="(\d+)"[^>]*>[\s\S]*?<\/Representation>\n?/g)];
    const tooTall = representations.filter((match) => Number(match[1]) > query.maxHeight!);
    // Keep the shortest when none fits.
    const keepOne = tooTall.length === representations.length ? [...tooTall].sort((a, b) => Number(a[1]) - Number(b[1]))[0] : undefined;
    for (const match of tooTall) if (match !== keepOne) mpd = mpd.replace(match[0], '');
  }
  if (query.dvrSeconds !== undefined) {
    mpd = mpd.replace(/timeShiftBufferDepth="PT([\d.]+)S"/, (whole, seconds: string) => (Number(seconds) > query.dvrSeconds! ? `timeShiftBufferDepth="PT${query.dvrSeconds}S"` : whole));
  }
  const parameters = segmentParameters(query);
  if (parameters.length > 0 || options.segmentBaseUrl) {
    mpd = mpd.replace(/\b(initialization|media)="([^"]*)"/g, (_, name: string, uri: string) => {
      const located = options.segmentBaseUrl ? options.segmentBaseUrl + uri : uri;
      // Templates are XML attribute values: the query's "&" must be escaped.
      return `${name}="${withParameters(located, parameters).replaceAll('&', '&amp;')}"`;
    });
  }
  return mpd;
}
