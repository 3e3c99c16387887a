/** The DASH MPD, `/live/ID/manifest.mpd`: cached like a live playlist while dynamic, longer once static (ended). */
import { summarizeMpd } from '../../../shared/dash/mpd.ts';
import { DASH_MPD_TYPE } from '../../../shared/media-types.ts';
import { streamObjectKey } from '../../../shared/storage/layout.ts';
import { cacheControlFor } from '../../cache/cache-control.ts';
import { rewriteMpd } from '../../manifest/playback-rewrite.ts';
import { conditionalResponse, notYetAvailable } from './responses.ts';
import { derivedEtag, querySignature } from './validators.ts';
import { segmentBase, type PlaybackDeps, type ViewerRequest } from './viewer-request.ts';

export async function mpdResponse(deps: PlaybackDeps, { c, playbackId, query }: ViewerRequest<{ kind: 'mpd' }>): Promise<Response> {
  const object = await deps.store.get(streamObjectKey(playbackId, { kind: 'mpd' }));
  if (!object) throw notYetAvailable();
  const stored = await new Response(object.body).text();
  const text = rewriteMpd(stored, query, { segmentBaseUrl: segmentBase(deps.segmentBaseUrl, playbackId) });
  const headers = {
    'content-type': DASH_MPD_TYPE,
    'cache-control': cacheControlFor('mpd', summarizeMpd(text)),
    etag: derivedEtag(object.etag, text === stored ? '' : `${querySignature(query, false)}${deps.segmentBaseUrl ? '.cdn' : ''}`),
  };
  return conditionalResponse(c, text, headers);
}
