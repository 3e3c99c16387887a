/**
 * A recording as video on demand: `/recordings/ID/RID/index.m3u8` (HLS, media playlists beside
 * it at `REND/index.m3u8`), `/recordings/ID/RID/manifest.mpd` (DASH), and the media they list,
 * `/recordings/ID/RID/REND/FILE`, which is the stream's own `REND/FILE` (no copies). Who may
 * watch is decided as for `/live/ID/` (the stream's status document; a signed stream's token);
 * a complete recording's manifests are immutable, as its media are. Nothing outside the stream's
 * prefix is read: ids and paths are validated first (400 with the reason), and the media a path
 * names is a layout object of the stream. (`/recordings/ID/RID.mp4` is recording-download's.)
 */
import { Hono, type Context } from 'hono';
import { DASH_MPD_TYPE, HLS_PLAYLIST_TYPE } from '../../shared/media-types.ts';
import { isPlaybackId } from '../../shared/playback-id.ts';
import { INVALID_RECORDING_ID, isRecordingId } from '../../shared/recordings/recording-document.ts';
import { parseRecordingRelativePath, recordingObjectKey, type RecordingObjectRef } from '../../shared/recordings/recording-layout.ts';
import { parseMultivariantPlaylist, renderMultivariantPlaylist } from '../../shared/hls/multivariant-playlist.ts';
import { parseStreamRelativePath, type StreamObjectKind, type StreamObjectRef } from '../../shared/storage/layout.ts';
import { IMMUTABLE } from '../cache/cache-control.ts';
import { httpError } from '../errors.ts';
import { rewriteMediaPlaylist, rewriteMpd, rewriteMultivariant, type PlaybackQuery } from '../manifest/playback-rewrite.ts';
import { readyRecording } from './ready-recording.ts';
import { storedObjectResponse } from './playback/media-objects.ts';
import { conditionalResponse, privateToViewer } from './playback/responses.ts';
import { derivedEtag, querySignature } from './playback/validators.ts';
import { authorizeViewer } from './playback/viewer-access.ts';
import { segmentBase, type PlaybackDeps, type PlaybackRouteOptions } from './playback/viewer-request.ts';

type ManifestRef = Exclude<RecordingObjectRef, { kind: 'recording-document' }>;
type MediaRef = Extract<StreamObjectRef, { kind: 'init' | 'segment' }>;

/** What a path under `/recordings/ID/RID/` names: one of its manifests, or a stored media object of the stream; null for anything else (its document included). */
function parseRecordingPath(path: string): { manifest: ManifestRef } | { media: MediaRef } | null {
  const manifest = parseRecordingRelativePath(path);
  if (manifest) return manifest.kind === 'recording-document' ? null : { manifest };
  const media = parseStreamRelativePath(path);
  return media?.kind === 'init' || media?.kind === 'segment' ? { media } : null;
}

/** The kind of the live object a recording's manifest answers like (for a signed stream's caching). */
const LIKE_LIVE: Record<ManifestRef['kind'], StreamObjectKind> = {
  'recording-multivariant': 'multivariant',
  'recording-media-playlist': 'media-playlist',
  'recording-mpd': 'mpd',
};

export function recordingRoutes(options: Omit<PlaybackRouteOptions, 'lowLatency'>): Hono {
  // No live state: a recording's media are in storage or nowhere.
  const deps: PlaybackDeps = { ...options, lowLatency: undefined, now: options.now ?? Date.now };
  const routes = new Hono();

  routes.get('/:playbackId/:recordingId/:path{.+}', async (c) => {
    const playbackId = c.req.param('playbackId');
    const recordingId = c.req.param('recordingId');
    if (!isPlaybackId(playbackId)) throw httpError(400, 'invalid stream id');
    if (!isRecordingId(recordingId)) throw httpError(400, INVALID_RECORDING_ID);
    const path = c.req.param('path');
    const named = parseRecordingPath(path);
    if (!named) throw httpError(404, 'no such object in a recording (index.m3u8, manifest.mpd, REND/index.m3u8 or a segment they list)');
    const { query, status, tokenExpiresAt } = await authorizeViewer(deps, c, playbackId);
    const response =
      'manifest' in named
        ? await manifestResponse(deps, c, playbackId, recordingId, named.manifest, query)
        : await storedObjectResponse(deps, { c, playbackId, path, ref: named.media, query, status });
    if (tokenExpiresAt === undefined) return response;
    return privateToViewer(response, 'manifest' in named ? LIKE_LIVE[named.manifest.kind] : named.media.kind, tokenExpiresAt, deps.now());
  });

  return routes;
}

/** A manifest of a complete recording, rewritten for the viewer (token, CDN base, height limit) as the live ones are. */
async function manifestResponse(deps: PlaybackDeps, c: Context, playbackId: string, recordingId: string, ref: ManifestRef, query: PlaybackQuery): Promise<Response> {
  await readyRecording(deps.store, playbackId, recordingId, deps.now(), 'it is playable');
  const object = await deps.store.get(recordingObjectKey(playbackId, recordingId, ref));
  if (!object) throw httpError(404, ref.kind === 'recording-media-playlist' ? `this recording has no rendition "${ref.rendition}"` : 'this recording has no such manifest');
  const stored = await new Response(object.body).text();
  let text = stored;
  let contentType = HLS_PLAYLIST_TYPE;
  if (ref.kind === 'recording-multivariant') {
    if (querySignature(query, false) !== '') text = renderMultivariantPlaylist(rewriteMultivariant(parseMultivariantPlaylist(stored), query));
  } else if (ref.kind === 'recording-media-playlist') {
    text = rewriteMediaPlaylist(stored, query, { segmentBaseUrl: segmentBase(deps.segmentBaseUrl, playbackId, ref.rendition) });
  } else {
    contentType = DASH_MPD_TYPE;
    text = rewriteMpd(stored, query, { segmentBaseUrl: segmentBase(deps.segmentBaseUrl, playbackId) });
  }
  const variant = `${querySignature(query, false)}${deps.segmentBaseUrl && ref.kind !== 'recording-multivariant' ? '.cdn' : ''}`;
  const headers = { 'content-type': contentType, 'cache-control': IMMUTABLE, etag: derivedEtag(object.etag, text === stored ? '' : variant) };
  return conditionalResponse(c, text, headers);
}
