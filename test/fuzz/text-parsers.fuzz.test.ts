/**
 * Property-based fuzzing (fast-check) of what reads text and credentials from the network or
 * from storage: playlists, manifest rewriting, query and header parsing, storage keys, playback
 * and write tokens. Arbitrary input ends in a result or the parser's own error; the round trips
 * and security properties hold for generated valid input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDeliveryDirectives } from '../../edge/manifest/delivery-directives.ts';
import { canonicalFacts, deltaUpdate, renderLowLatencyPlaylist } from '../../edge/manifest/low-latency-playlist.ts';
import { parsePlaybackQuery, rewriteMediaPlaylist, rewriteMpd, trimToWindow } from '../../edge/manifest/playback-rewrite.ts';
import { MultivariantParseError, parseMultivariantPlaylist } from '../../shared/hls/multivariant-playlist.ts';
import { parseMediaPlaylist, PlaylistParseError, renderMediaPlaylist, type MediaPlaylist } from '../../shared/hls/media-playlist.ts';
import { parsePartAnnouncement } from '../../shared/low-latency.ts';
import { mintPlaybackToken, verifyPlaybackToken } from '../../shared/playback-token.ts';
import { parseStreamObjectKey, streamObjectKey } from '../../shared/storage/layout.ts';
import { streamWriteToken, writeScope } from '../../shared/write-api.ts';
import { parseM3u8 } from '../helpers/m3u8.ts';

const RUNS = 500;

function onlyFails<E extends Error>(errorClass: new (...args: never[]) => E, parse: () => unknown): void {
  try {
    parse();
  } catch (error) {
    if (!(error instanceof errorClass)) throw error;
  }
}

/** Playlist-looking text: real tags with random values, random lines between them. */
const playlistLike = fc
  .array(
    fc.oneof(
      fc.constantFrom('#EXTM3U', '#EXT-X-ENDLIST', '#EXT-X-DISCONTINUITY', '#EXT-X-INDEPENDENT-SEGMENTS', ''),
      fc.tuple(fc.constantFrom('#EXTINF:', '#EXT-X-TARGETDURATION:', '#EXT-X-MEDIA-SEQUENCE:', '#EXT-X-PROGRAM-DATE-TIME:', '#EXT-X-MAP:URI=', '#EXT-X-DISCONTINUITY-SEQUENCE:', '#EXT-X-STREAM-INF:', '#EXT-X-MEDIA:', '#EXT-X-PART:'), fc.string({ maxLength: 40 })).map(([tag, value]) => tag + value),
      fc.string({ maxLength: 40 }),
    ),
    { maxLength: 40 },
  )
  .map((lines) => lines.join('\n'));

/** A valid media playlist as the sidecar writes it. */
const mediaPlaylists = fc
  .record({
    targetDuration: fc.integer({ min: 1, max: 10 }),
    mediaSequence: fc.nat({ max: 1_000_000 }),
    discontinuitySequence: fc.nat({ max: 1000 }),
    ended: fc.boolean(),
    segments: fc.array(
      fc.record({
        session: fc.constantFrom('sessiona1', 'sessionb2'),
        time: fc.nat({ max: 1e12 }),
        duration: fc.integer({ min: 100, max: 2000 }).map((ms) => ms / 1000),
        programDateTime: fc.integer({ min: 1_600_000_000_000, max: 1_900_000_000_000 }),
        discontinuity: fc.boolean(),
      }),
      { minLength: 1, maxLength: 30 },
    ),
  })
  .map(({ segments, ...rest }): MediaPlaylist => ({
    ...rest,
    segments: segments.map((segment) => ({
      uri: `${segment.session}-${segment.time}.m4s`,
      duration: segment.duration,
      initUri: `init-${segment.session}.mp4`,
      programDateTime: segment.programDateTime,
      discontinuity: segment.discontinuity || undefined,
    })),
  }));

describe('fuzzing the text parsers', () => {
  it('media and multivariant playlist parsers: any text is a playlist or a parse error', () => {
    fc.assert(
      fc.property(fc.oneof(playlistLike, fc.string({ maxLength: 400 })), (text) => {
        onlyFails(PlaylistParseError, () => parseMediaPlaylist(text));
        onlyFails(MultivariantParseError, () => parseMultivariantPlaylist(text));
        canonicalFacts(text);
      }),
      { numRuns: RUNS * 4 },
    );
  });

  it('a media playlist survives render, parse, render unchanged', () => {
    fc.assert(
      fc.property(mediaPlaylists, (playlist) => {
        const text = renderMediaPlaylist(playlist);
        expect(renderMediaPlaylist(parseMediaPlaylist(text))).toBe(text);
      }),
      { numRuns: RUNS },
    );
  });

  it('edge rewriting never throws on any stored text, and keeps every segment of a valid playlist within the DVR window', () => {
    fc.assert(
      fc.property(fc.oneof(playlistLike, fc.string({ maxLength: 400 })), fc.integer({ min: 1, max: 100 }), (text, seconds) => {
        rewriteMediaPlaylist(text, { token: 'tok', dvrSeconds: seconds }, { segmentBaseUrl: 'https://cdn.example/' });
        rewriteMpd(text, { token: 'tok', maxHeight: 480, dvrSeconds: seconds });
        deltaUpdate(text, 12);
      }),
      { numRuns: RUNS * 2 },
    );
    fc.assert(
      fc.property(mediaPlaylists, fc.integer({ min: 1, max: 100 }), (playlist, seconds) => {
        const live = { ...playlist, ended: false };
        const trimmed = parseMediaPlaylist(trimToWindow(renderMediaPlaylist(live), seconds));
        const kept = live.segments.slice(live.segments.length - trimmed.segments.length);
        expect(trimmed.segments.map((segment) => segment.uri)).toEqual(kept.map((segment) => segment.uri));
        expect(trimmed.mediaSequence).toBe(live.mediaSequence + live.segments.length - kept.length);
        expect(trimmed.segments[0]!.initUri).toBe(kept[0]!.initUri);
      }),
      { numRuns: RUNS },
    );
  });

  it('a delta update keeps the media sequence and lists exactly the newest segments, as players read it', () => {
    fc.assert(
      fc.property(mediaPlaylists, (playlist) => {
        const live = { ...playlist, ended: false };
        const full = renderLowLatencyPlaylist(renderMediaPlaylist(live), { partTarget: 0.333, segmentParts: new Map(), pendingParts: [], reports: [], canSkipUntil: 12 });
        const delta = parseM3u8(deltaUpdate(full, 12)) as unknown as { mediaSequence: number; skip?: { skippedSegments: number }; segments: Array<{ uri: string; map?: { uri: string } }> };
        const skipped = delta.skip?.skippedSegments ?? 0;
        expect(delta.mediaSequence).toBe(live.mediaSequence);
        expect(skipped + delta.segments.length).toBe(live.segments.length);
        expect(delta.segments.map((segment) => segment.uri)).toEqual(live.segments.slice(skipped).map((segment) => segment.uri));
        expect(delta.segments[0]!.map?.uri).toBe(live.segments[skipped]!.initUri);
        // What is skipped starts more than the boundary before the end.
        const keptSeconds = live.segments.slice(skipped).reduce((sum, segment) => sum + segment.duration, 0);
        expect(keptSeconds).toBeLessThanOrEqual(12 + 1e-9);
      }),
      { numRuns: RUNS },
    );
  });

  it('query strings and part announcements: any input is a result or a reason, never an exception', () => {
    const params = fc.array(fc.tuple(fc.constantFrom('token', 'max_height', 'dvr', '_HLS_msn', '_HLS_part', '_HLS_skip', 'x'), fc.string({ maxLength: 30 })), { maxLength: 6 });
    fc.assert(
      fc.property(params, fc.dictionary(fc.constantFrom('x-part-msn', 'x-part-duration', 'x-part-independent', 'x-part-next', 'x-part-target'), fc.string({ maxLength: 40 })), (pairs, headers) => {
        const search = new URLSearchParams(pairs);
        parsePlaybackQuery(search);
        const directives = parseDeliveryDirectives(search);
        if (directives.ok && directives.directives.block) expect(Number.isSafeInteger(directives.directives.block.msn)).toBe(true);
        const announcement = parsePartAnnouncement((name) => headers[name]);
        if (announcement.ok) expect(parseStreamObjectKey(`streams/s/r/${announcement.part.next}`)?.ref.kind).toBe('part');
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('storage keys: a key is accepted only in its one canonical spelling, inside one stream prefix', () => {
    // Keys shaped like the layout's, each piece valid or hostile.
    const piece = (valid: string[]) => fc.oneof(fc.constantFrom(...valid), fc.constantFrom('..', '.', '%2e%2e', '', 'a\\b', '\u0000', 'ＮＮ', 'a/b'), fc.string({ maxLength: 12 }));
    const keyLike = fc
      .tuple(
        fc.constantFrom('streams/', 'streams//', '/streams/', ''),
        piece(['colors', 'other', 'a_b-1']),
        piece(['source', '720p', 'audio', 'index.m3u8', 'status.json', 'manifest.mpd']),
        fc.option(piece(['index.m3u8', 'init-sessiona1.mp4', 'sessiona1-0.m4s', 'sessiona1-90000.p3.m4s']), { nil: undefined }),
      )
      .map(([prefix, stream, second, third]) => `${prefix}${stream}/${second}${third === undefined ? '' : `/${third}`}`);
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(keyLike, fc.string({ maxLength: 80 })), (key) => {
        const parsed = parseStreamObjectKey(key);
        if (!parsed) return;
        accepted += 1;
        expect(streamObjectKey(parsed.playbackId, parsed.ref)).toBe(key);
        expect(key.split('/').some((part) => part === '..' || part === '.')).toBe(false);
        expect(key).not.toMatch(/[\\%\u0000]/);
      }),
      { numRuns: RUNS * 4 },
    );
    expect(accepted).toBeGreaterThan(0);
  });

  it('playback and write tokens: nothing but a token minted for the stream, unexpired, is accepted', async () => {
    const secret = 'fuzz-secret-0123456789';
    const now = Date.now();
    // Expiry in epoch seconds, the clock in milliseconds.
    const valid = await mintPlaybackToken(secret, 'colors', Math.floor(now / 1000) + 60);
    const writer = await streamWriteToken(secret, 'colors');
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 120 }), fc.constant(valid).chain((token) => fc.nat({ max: token.length - 1 }).chain((at) => fc.string({ minLength: 1, maxLength: 1 }).map((c) => token.slice(0, at) + c + token.slice(at + 1))))), async (token) => {
        const check = await verifyPlaybackToken(secret, token, 'colors', now);
        expect(check.ok).toBe(token === valid);
        const scope = await writeScope(secret, token);
        expect(scope).toBeUndefined();
      }),
      { numRuns: RUNS },
    );
    expect((await verifyPlaybackToken(secret, valid, 'other', now)).ok).toBe(false);
    expect((await verifyPlaybackToken(secret, valid, 'colors', now + 120_000)).ok).toBe(false);
    expect(await writeScope(secret, writer)).toBe('colors');
  });
});

describe('regressions the fuzzer found', () => {
  // A playlist text starting with "\n#EXTINF:" and a duration that is not a number made the
  // backward scans of the DVR trim and the delta update loop for ever (lastIndexOf from -1
  // finds the match at 0 again): a hung Node or Deno edge, a Worker killed at its CPU limit.
  it.each(['\n#EXTINF:x,\na.m4s\n', '\n#EXTINF:0,\na.m4s\n#EXTINF:0,\nb.m4s\n'])('trims and delta-updates %j without hanging', (text) => {
    expect(typeof trimToWindow(text, 1)).toBe('string');
    expect(typeof deltaUpdate(text, 12)).toBe('string');
    expect(typeof rewriteMediaPlaylist(text, { dvrSeconds: 1 })).toBe('string');
  });
});
