/**
 * Media objects under `/live/ID/REND/`: init segments and segments from storage (byte ranges,
 * ETag/304), a segment storage does not have yet from the low-latency live state's parts, and
 * the live state's parts themselves.
 */
import type { Context } from 'hono';
import { streamObjectKey, streamRelativePath, type StreamObjectRef } from '../../../shared/storage/layout.ts';
import { cacheControlFor, IMMUTABLE } from '../../cache/cache-control.ts';
import { httpError, TemporarilyUnavailable } from '../../errors.ts';
import { contentRange, decideRange } from '../../http/range.ts';
import { clientAddress } from '../../low-latency/client-address.ts';
import { UNKNOWN_PART } from '../../low-latency/part-decision.ts';
import type { PartAnswer } from '../../low-latency/live-state-types.ts';
import { conditionalResponse, notYetAvailable, unsatisfiable } from './responses.ts';
import type { PlaybackDeps, ViewerRequest } from './viewer-request.ts';

type PartRef = Extract<StreamObjectRef, { kind: 'part' }>;

/** A stored object (init segment, segment), whole or a byte range of it. */
export async function storedObjectResponse(deps: PlaybackDeps, { c, playbackId, ref }: ViewerRequest): Promise<Response> {
  const key = streamObjectKey(playbackId, ref);
  const rangeHeader = c.req.header('range');
  // A ranged request needs the size first; a whole-object request reads it with the bytes.
  const metadata = rangeHeader === undefined ? undefined : await deps.store.head(key);
  if (rangeHeader !== undefined && !metadata) return liveSegmentResponse(deps, c, playbackId, ref, rangeHeader);
  const range = metadata ? decideRange(rangeHeader, metadata.size) : ({ kind: 'whole' } as const);
  if (range.kind === 'unsatisfiable') return unsatisfiable(metadata!.size);
  const object = await deps.store.get(key, range.kind === 'partial' ? range : undefined);
  if (!object) return liveSegmentResponse(deps, c, playbackId, ref, rangeHeader);
  const headers: Record<string, string> = {
    'content-type': object.contentType ?? 'video/mp4',
    'cache-control': cacheControlFor(ref.kind),
    etag: `"${object.etag}"`,
    'accept-ranges': 'bytes',
  };
  if (range.kind === 'partial') {
    headers['content-range'] = contentRange(range.offset, range.length, object.size);
    headers['content-length'] = String(range.length);
    return conditionalResponse(c, object.body, headers, 206);
  }
  headers['content-length'] = String(object.size);
  return conditionalResponse(c, object.body, headers);
}

/**
 * A media segment storage does not have yet, that the low-latency live state listed from its
 * parts (the sidecar is still storing it): the parts' bytes end to end, which are exactly the
 * bytes storage gets under this name, hence `immutable` as from storage. Ranges and HEAD are
 * answered from the same bytes. No ETag: storage's validator for these bytes does not exist
 * yet, and one of ours would not match it (a revalidation would only fetch the bytes again).
 */
async function liveSegmentResponse(deps: PlaybackDeps, c: Context, playbackId: string, ref: StreamObjectRef, rangeHeader: string | undefined): Promise<Response> {
  if (ref.kind !== 'segment' || !deps.lowLatency) throw notYetAvailable();
  const answer = await deps.lowLatency.segment(playbackId, ref.rendition, streamRelativePath(ref).slice(ref.rendition.length + 1));
  if (answer.kind === 'missing') throw notYetAvailable();
  const { bytes } = answer;
  const range = decideRange(rangeHeader, bytes.byteLength);
  if (range.kind === 'unsatisfiable') return unsatisfiable(bytes.byteLength);
  const headers: Record<string, string> = { 'content-type': answer.contentType, 'cache-control': cacheControlFor(ref.kind), 'accept-ranges': 'bytes' };
  if (range.kind === 'partial') {
    headers['content-range'] = contentRange(range.offset, range.length, bytes.byteLength);
    headers['content-length'] = String(range.length);
    return new Response(bytes.slice(range.offset, range.offset + range.length), { status: 206, headers });
  }
  headers['content-length'] = String(bytes.byteLength);
  return new Response(bytes, { headers });
}

/**
 * A low-latency part from the live state, by rendition and name (renditions share part names);
 * the hinted next part is held until it exists, a 404 at once when it will not come.
 */
export async function partResponse(deps: PlaybackDeps, { c, playbackId, path, ref, status }: ViewerRequest<PartRef>): Promise<Response> {
  const file = path.slice(ref.rendition.length + 1);
  const client = clientAddress({ env: c.env, header: (name) => c.req.header(name) });
  // Joined with other viewers' requests for the part (location-collapse.ts): kept alive while it
  // waits for them, and as patient as the live state holds for this stream.
  const viewer = { keepAlive: deps.keepAlive?.(c), targetDuration: status.targetDuration };
  const answer: PartAnswer = deps.lowLatency ? await deps.lowLatency.part(playbackId, ref.rendition, file, client, viewer) : { kind: 'missing' };
  if (answer.kind === 'busy') throw new TemporarilyUnavailable(answer.reason, answer.retryAfterSeconds);
  if (answer.kind === 'missing') throw httpError(404, answer.reason ?? UNKNOWN_PART);
  return new Response(answer.bytes, {
    headers: { 'content-type': answer.contentType, 'content-length': String(answer.bytes.byteLength), 'cache-control': IMMUTABLE },
  });
}
