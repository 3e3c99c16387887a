/** The stream's status document, `/live/ID/status.json` (live, reconnecting or ended; renditions): public, short-lived. */
import { JSON_TYPE } from '../../../shared/media-types.ts';
import { streamObjectKey } from '../../../shared/storage/layout.ts';
import { cacheControlFor } from '../../cache/cache-control.ts';
import { httpError } from '../../errors.ts';
import { conditionalResponse } from './responses.ts';
import type { ObjectRequest, PlaybackDeps } from './viewer-request.ts';

export async function statusResponse(deps: PlaybackDeps, { c, playbackId }: ObjectRequest<{ kind: 'status' }>): Promise<Response> {
  const object = await deps.store.get(streamObjectKey(playbackId, { kind: 'status' }));
  if (!object) throw httpError(404, 'no such stream (it has never been live)');
  const headers = { 'content-type': JSON_TYPE, 'cache-control': cacheControlFor('status'), etag: `"${object.etag}"` };
  return conditionalResponse(c, object.body, headers);
}
